"""A study's state as plain data: what `hpo study show` prints and `--json` emits."""

from __future__ import annotations

from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo.config import StudyConfig
from hpo.trials.records import METRIC_KEYS
from hpo.trials.budget import progress



def trial_summary(trial: FrozenTrial) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.name,
        "values": trial.values,
        "params": trial.params,
        "metrics": {k: trial.user_attrs[k] for k in METRIC_KEYS if k in trial.user_attrs},
        "duration_s": trial.duration.total_seconds() if trial.duration else None,
    }


def summarize(study: optuna.Study, storage_url: str, stale: list[int]) -> dict[str, Any]:
    config = StudyConfig.of(study)
    state = progress(study, config.budget)
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        best: list[dict[str, Any]] = []
    elif len(config.objectives) == 1:
        best = [trial_summary(study.best_trial)]
    else:
        best = [trial_summary(t) for t in study.best_trials]
    return {
        "study": study.study_name,
        "storage": storage_url,
        "config": {k: v for k, v in config.to_user_attrs().items() if k != "extra"},
        "progress": state.to_dict(),
        "stale_running": stale,
        "best": best,
        "multi_objective": len(config.objectives) > 1,
    }
