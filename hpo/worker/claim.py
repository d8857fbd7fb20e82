"""Claiming a trial: exact admission control over the study's WAITING slots.

Unlike ``study.ask()``, which creates a new trial when the queue is empty (and so lets N
workers overshoot the budget), :func:`claim` only ever takes an existing WAITING trial. The
WAITING -> RUNNING update is conditional in Optuna's RDB storage, so two workers can never
claim the same one.
"""

from __future__ import annotations

import optuna
from optuna.trial import TrialState

from hpo.optuna_internals import (
    heartbeat_enabled,
    rdb_backend,
    register_claimed_trial,
    storage_of,
    study_id,
    trial_id,
    waiting_trial_ids,
)
from hpo.worker import retry

# Candidates fetched per claim: enough that concurrent workers racing for the first ones
# still find a free one, few enough that a 10,000-trial budget is not read on every claim.
CANDIDATES = 32


def _waiting_ids(study: optuna.Study) -> list[int]:
    """Ids of the oldest WAITING trials: one indexed query for ids only, not every trial's attrs."""
    backend = rdb_backend(study)
    if backend is None:
        return [trial_id(t) for t in study.get_trials(deepcopy=False, states=(TrialState.WAITING,))]
    return waiting_trial_ids(backend, study_id(study), CANDIDATES)


def claim(study: optuna.Study) -> optuna.Trial | None:
    """The next WAITING trial, now RUNNING and ours; None when the queue is empty."""
    storage = storage_of(study)  # Optuna exposes no public "pop without create"
    waiting = retry.call(lambda: _waiting_ids(study), "list waiting trials")
    for candidate in waiting:
        try:
            won = retry.call(lambda: storage.set_trial_state_values(candidate, state=TrialState.RUNNING), "claim a trial")
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        if won:
            # Beat at once: a trial with no heartbeat row is never judged stale, so a worker
            # killed before its first beat would otherwise leave the trial RUNNING forever.
            if heartbeat_enabled(storage):
                retry.call(lambda: storage.record_heartbeat(candidate), "record a heartbeat")
            # Constructing the Trial reads it and samples the relative (multivariate) params;
            # nothing is written through the cache before it is registered just after.
            trial = retry.call(lambda: optuna.Trial(study, candidate), "start a trial")
            register_claimed_trial(study, trial)
            return trial
    return None
