"""Budget slots: a study's exact budget, made as WAITING trials that workers claim.

``study.add_trials`` commits each trial on its own (~35 ms each on PostgreSQL, 6 minutes for
a budget of 10,000); this makes them in one transaction. The caller guarantees that nothing
else numbers trials meanwhile (no worker uses a study before its marker is set). The slots
carry no ``fixed_params``: GridSampler would read that as an enqueued trial and assign it no
grid point.
"""

from __future__ import annotations

import optuna
from optuna.trial import TrialState, create_trial

from hpo.trials import _optuna


def add_waiting_slots(study: optuna.Study, n: int) -> None:
    """``n`` WAITING trials, as ``study.add_trials`` makes them, in one transaction."""
    backend = _optuna.rdb_backend(study)
    if backend is None:
        study.add_trials([create_trial(state=TrialState.WAITING) for _ in range(n)])
        return
    _optuna.insert_waiting_trials(backend, _optuna.study_id(study), len(study.get_trials(deepcopy=False)), n)
