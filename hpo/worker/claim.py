"""Claiming a trial: exact admission control over the study's WAITING slots.

Unlike ``study.ask()``, which creates a new trial when the queue is empty (and so lets N
workers overshoot the budget), :func:`claim` only ever takes an existing WAITING trial, with a
conditional WAITING -> RUNNING update, so two workers can never claim the same one. The update
and the trial's first heartbeat are one transaction (see
:func:`hpo.optuna_internals.claim_waiting_trial`).
"""

from __future__ import annotations

import optuna

from hpo.optuna_internals import (
    claim_waiting_trial,
    heartbeat_enabled,
    rdb_backend,
    register_claimed_trial,
    storage_of,
    study_id,
)
from hpo.worker import retry

# Candidates fetched per claim: enough that concurrent workers racing for the first ones
# still find a free one, few enough that a 10,000-trial budget is not read on every claim.
CANDIDATES = 32


def claim(study: optuna.Study) -> optuna.Trial | None:
    """The next WAITING trial, now RUNNING and ours; None when the queue is empty."""
    backend = rdb_backend(study)
    if backend is None:
        raise TypeError(f"hpo workers need an RDB storage, not {type(storage_of(study)).__name__}")
    beat = heartbeat_enabled(storage_of(study))
    candidate = retry.call(lambda: claim_waiting_trial(backend, study_id(study), CANDIDATES, beat), "claim a trial")
    if candidate is None:
        return None
    # Constructing the Trial reads it and samples the relative (multivariate) params;
    # nothing is written through the cache before it is registered just after.
    trial = retry.call(lambda: optuna.Trial(study, candidate), "start a trial")
    register_claimed_trial(study, trial)
    return trial
