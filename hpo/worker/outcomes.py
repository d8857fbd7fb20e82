"""How a trial ends: every way training can stop, mapped to what happens to the trial.

The scheduler's decisions (hpo.trials.scheduling) leave training as one :class:`Interrupt`
carrying the :class:`~hpo.trials.Decision`; errors leave it as themselves. :func:`classify` is
pure (an exception in, an :class:`Outcome` out), so the mapping is unit tested without a
database; :func:`settle` applies an outcome to the lease.

| raised                              | ending      | why                                               |
|-------------------------------------|-------------|---------------------------------------------------|
| (nothing)                           | complete    |                                                   |
| Interrupt: prune                    | pruned      | the policy stopped it                             |
| Interrupt: pause                    | paused      | waits at its rung for a promotion (checkpointed)  |
| Interrupt: hand back                | handed back | a stop signal, or the final run is due: another   |
|                                     |             | worker resumes it from its checkpoint             |
| Interrupt: end                      | complete    | the time budget ran out (objective.run keeps it)  |
| optuna.TrialPruned                  | pruned      | nothing to end from after the deadline            |
| NonFiniteLoss                       | pruned      | so the sampler learns the region is bad           |
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

from hpo.errors import HpoError, first_line
from hpo.trials import Action, Decision, Lease, LeaseLost, is_transient
from hpo.training import NonFiniteLoss


class Ending(enum.Enum):
    COMPLETE = "complete"
    PRUNED = "pruned"
    PAUSED = "paused"
    HANDED_BACK = "handed back"
    DROPPED = "dropped"
    FAILED = "failed"


class Interrupt(Exception):
    """Leaves ``train()`` at an epoch boundary with the scheduler's ``decision``; ``result`` is
    the training so far, for a trial that ends with what it reached (Action.END)."""

    def __init__(self, decision: Decision, result: object = None) -> None:
        super().__init__(decision.reason or decision.action.value)
        self.decision, self.result = decision, result


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
    if isinstance(exc, Interrupt):
        return decided(exc.decision)
    if isinstance(exc, optuna.TrialPruned):
        return Outcome(Ending.PRUNED, None, detail=str(exc) or None)
    if isinstance(exc, NonFiniteLoss):
        return Outcome(Ending.PRUNED, str(exc))
    if isinstance(exc, (LeaseLost, optuna.exceptions.UpdateFinishedTrialError)):
        return Outcome(Ending.DROPPED, "taken over by a retry")
    if isinstance(exc, torch.cuda.OutOfMemoryError):
        return Outcome(Ending.FAILED, f"CUDA out of memory: {first_line(exc)}")
    if isinstance(exc, HpoError):
        return Outcome(Ending.FAILED, str(exc))
    if is_transient(exc):
        return Outcome(Ending.HANDED_BACK, f"storage failed mid-trial ({type(exc).__name__})")
    return Outcome(Ending.FAILED, f"{type(exc).__name__}: {first_line(exc)}", unexpected=True)


def decided(decision: Decision) -> Outcome:
    """The ending a scheduler's interrupting decision gives the trial."""
    if decision.action is Action.PRUNE:
        return Outcome(Ending.PRUNED, None, detail=decision.reason)
    if decision.action is Action.PAUSE:
        return Outcome(Ending.PAUSED, None, epoch=decision.epoch, detail=decision.reason)
    if decision.action is Action.HAND_BACK:
        return Outcome(Ending.HANDED_BACK, decision.reason)
    # CONTINUE never interrupts, and an END keeps its result as a complete trial (objective.run).
    raise ValueError(f"decision {decision.action.value!r} does not end a trial by itself")


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
