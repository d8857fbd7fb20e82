"""Claiming a trial: exact admission control over the study's WAITING slots.

Unlike ``study.ask()``, which creates a new trial when the queue is empty (and so lets N
workers overshoot the budget), :func:`claim` only ever takes an existing WAITING trial. The
WAITING -> RUNNING update is conditional in Optuna's RDB storage, so two workers can never
claim the same one.
"""

from __future__ import annotations

import optuna
import sqlalchemy
from optuna.storages._heartbeat import is_heartbeat_enabled
from optuna.storages._cached_storage import _CachedStorage, _StudyInfo
from optuna.storages._rdb import models
from optuna.trial import TrialState

from hpo.studies.history import rdb_backend
from hpo.worker import retry

# Candidates fetched per claim: enough that concurrent workers racing for the first ones
# still find a free one, few enough that a 10,000-trial budget is not read on every claim.
CANDIDATES = 32


def _waiting_ids(study: optuna.Study) -> list[int]:
    """Ids of the oldest WAITING trials: one indexed query for ids only, not every trial's attrs."""
    backend = rdb_backend(study)
    if backend is None:
        trials = study._storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.WAITING,))
        return [t._trial_id for t in trials]
    t = models.TrialModel
    with backend.engine.connect() as conn:
        rows = conn.execute(
            sqlalchemy.select(t.trial_id)
            .where(t.study_id == study._study_id, t.state == TrialState.WAITING)
            .order_by(t.trial_id)
            .limit(CANDIDATES)
        )
        return [row[0] for row in rows]


def _register(study: optuna.Study, trial_id: int) -> None:
    """Tell Optuna's trial cache about a trial it has not read yet (it keys writes by trial id)."""
    storage = study._storage
    if not isinstance(storage, _CachedStorage):
        return
    frozen = storage._backend.get_trial(trial_id)
    with storage._lock:
        info = storage._studies.setdefault(study._study_id, _StudyInfo())
        storage._add_trials_to_cache(study._study_id, [frozen])
        info.unfinished_trial_ids.add(trial_id)  # so the cache's next read refreshes it


def claim(study: optuna.Study) -> optuna.Trial | None:
    """The next WAITING trial, now RUNNING and ours; None when the queue is empty."""
    storage = study._storage  # Optuna exposes no public "pop without create"
    waiting = retry.call(lambda: _waiting_ids(study), "list waiting trials")
    for trial_id in waiting:
        try:
            won = retry.call(lambda: storage.set_trial_state_values(trial_id, state=TrialState.RUNNING), "claim a trial")
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        if won:
            retry.call(lambda: _register(study, trial_id), "claim a trial")
            # Beat at once: a trial with no heartbeat row is never judged stale, so a worker
            # killed before its first beat would otherwise leave the trial RUNNING forever.
            if is_heartbeat_enabled(storage):
                retry.call(lambda: storage.record_heartbeat(trial_id), "record a heartbeat")
            # Constructing the Trial samples the relative (multivariate) params.
            return retry.call(lambda: optuna.Trial(study, trial_id), "start a trial")
    return None
