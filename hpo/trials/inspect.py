"""Read-only looks at a study's trials for `hpo study show`, the report and the dashboard link."""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from hpo.trials import _optuna


def stale_trial_numbers(study: optuna.Study, storage: optuna.storages.RDBStorage) -> list[int]:
    """Numbers of RUNNING trials whose heartbeat is older than the grace period.

    ``storage`` must have been opened with the study's heartbeat settings.
    """
    ids = set(_optuna.stale_trial_ids(storage, _optuna.study_id(study)))
    if not ids:
        return []
    running = study.get_trials(deepcopy=False, states=(TrialState.RUNNING,))
    return [t.number for t in running if _optuna.trial_id(t) in ids]


def study_database_id(study: optuna.Study) -> int:
    """The study's id in its database, as optuna-dashboard's URLs use it."""
    return _optuna.study_id(study)
