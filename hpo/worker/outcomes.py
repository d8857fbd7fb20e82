"""How a trial ends: every way training can stop, mapped to what happens to the trial.

:func:`classify` is pure (an exception in, an :class:`Outcome` out), so the mapping is unit
tested without a database; :func:`settle` applies an outcome to the lease.

| raised                              | ending      | why                                               |
|-------------------------------------|-------------|---------------------------------------------------|
| (nothing)                           | complete    |                                                   |
| optuna.TrialPruned                  | pruned      | the pruner stopped it                             |
| PauseAtRung                         | paused      | waits at its rung for a promotion (checkpointed)  |
| NonFiniteLoss                       | pruned      | so the sampler learns the region is bad           |
| StopRequested (SIGTERM, Ctrl-C)     | handed back | another worker resumes it from its checkpoint     |
| FinalRunDue                         | handed back | this worker starts the final run; resumed later   |
| a transient storage error           | handed back | it escaped the retries; resume after the outage   |
| LeaseLost / UpdateFinishedTrialError| dropped     | a retry owns the trial now                        |
| torch.cuda.OutOfMemoryError         | failed      | too big for this device; memory is freed          |
| HpoError, any other error           | failed      | with a one-line reason                            |
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

import optuna
import torch

from hpo.errors import HpoError
from hpo.trials import Lease, LeaseLost, is_transient
from hpo.trials.storage import first_line
from hpo.training import NonFiniteLoss
from hpo.worker.signals import FinalRunDue, PauseAtRung, StopRequested


class Ending(enum.Enum):
    COMPLETE = "complete"
    PRUNED = "pruned"
    PAUSED = "paused"
    HANDED_BACK = "handed back"
    DROPPED = "dropped"
    FAILED = "failed"


@dataclass(frozen=True)
class Outcome:
    ending: Ending
    reason: str | None = None  # recorded as the trial's fail_reason where there is one
    values: Sequence[float] | None = None  # the objective values of a complete trial
    unexpected: bool = False  # an error hpo did not anticipate: its traceback is worth a debug log
    detail: str | None = None  # for the log only, e.g. "pruned at epoch 3"
    epoch: int | None = None  # the rung a paused trial waits at


def classify(exc: BaseException) -> Outcome:
    """What ``exc``, raised while training a leased trial, means for that trial."""
    if isinstance(exc, optuna.TrialPruned):
        return Outcome(Ending.PRUNED, None, detail=str(exc) or None)
    if isinstance(exc, PauseAtRung):
        return Outcome(Ending.PAUSED, None, epoch=exc.epoch, detail=str(exc))
    if isinstance(exc, NonFiniteLoss):
        return Outcome(Ending.PRUNED, str(exc))
    if isinstance(exc, StopRequested):
        return Outcome(Ending.HANDED_BACK, "handed back by a stopping worker")
    if isinstance(exc, FinalRunDue):
        return Outcome(Ending.HANDED_BACK, "handed back to start the study's final run")
    if isinstance(exc, (LeaseLost, optuna.exceptions.UpdateFinishedTrialError)):
        return Outcome(Ending.DROPPED, "taken over by a retry")
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return Outcome(Ending.FAILED, f"CUDA out of memory: {first_line(exc)}")
    if isinstance(exc, HpoError):
        return Outcome(Ending.FAILED, str(exc))
    if is_transient(exc):
        return Outcome(Ending.HANDED_BACK, f"storage failed mid-trial ({type(exc).__name__})")
    return Outcome(Ending.FAILED, f"{type(exc).__name__}: {first_line(exc)}", unexpected=True)


def settle(lease: Lease, outcome: Outcome) -> Outcome:
    """End the leased trial as ``outcome`` says; returns what really happened.

    A trial that a retry took over meanwhile is dropped whatever the outcome was.
    """
    try:
        if outcome.ending is Ending.COMPLETE:
            lease.complete(outcome.values or [])
        elif outcome.ending is Ending.PRUNED:
            lease.prune(outcome.reason)
        elif outcome.ending is Ending.PAUSED:
            assert outcome.epoch is not None
            lease.pause(outcome.epoch)
        elif outcome.ending is Ending.HANDED_BACK:
            lease.hand_back(outcome.reason or "handed back")
        elif outcome.ending is Ending.FAILED:
            lease.fail(outcome.reason or "failed")
    except LeaseLost:
        return Outcome(Ending.DROPPED, "taken over by a retry")
    return outcome
