"""Claiming a trial: exact admission control over the study's WAITING slots.

Unlike ``study.ask()``, which creates a new trial when the queue is empty (and so lets N
workers overshoot the budget), :func:`claim` only ever takes an existing WAITING trial. The
WAITING -> RUNNING update is conditional in Optuna's RDB storage, so two workers can never
claim the same one.
"""

from __future__ import annotations

import optuna
from optuna.storages._heartbeat import is_heartbeat_enabled
from optuna.trial import TrialState

from hpo.worker import retry


def claim(study: optuna.Study) -> optuna.Trial | None:
    """The next WAITING trial, now RUNNING and ours; None when the queue is empty."""
    storage = study._storage  # Optuna exposes no public "pop without create"
    waiting = retry.call(
        lambda: storage.get_all_trials(study._study_id, deepcopy=False, states=(TrialState.WAITING,)),
        "list waiting trials",
    )
    for frozen in waiting:
        trial_id = frozen._trial_id
        try:
            won = retry.call(lambda: storage.set_trial_state_values(trial_id, state=TrialState.RUNNING), "claim a trial")
        except optuna.exceptions.UpdateFinishedTrialError:
            continue
        if won:
            # Beat at once: a trial with no heartbeat row is never judged stale, so a worker
            # killed before its first beat would otherwise leave the trial RUNNING forever.
            if is_heartbeat_enabled(storage):
                retry.call(lambda: storage.record_heartbeat(trial_id), "record a heartbeat")
            # Constructing the Trial samples the relative (multivariate) params.
            return retry.call(lambda: optuna.Trial(study, trial_id), "start a trial")
    return None
