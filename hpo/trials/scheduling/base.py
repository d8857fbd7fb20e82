"""The scheduler's interface: what runs next, and a :class:`Decision` at each epoch boundary.

Modelled on Ray Tune's ``TrialScheduler`` (``on_trial_result`` returns CONTINUE / PAUSE /
STOP; ``choose_trial_to_run``) and Syne Tune's split of loop, scheduler and backend: a
scheduler *decides*, it never touches the storage. What it may read of the study comes in
through a :class:`StudyView`, which the queue implements over the database and the unit tests
over a table (tests/trials/test_scheduling.py). Whoever holds the trial applies the decision:
the worker's loop, through the lease (hpo.worker.outcomes).

A scheduler answers three questions:

- :meth:`Scheduler.sources`: where a free worker looks for its next trial, in order.
- :meth:`Scheduler.decide`: at the end of an epoch, continue, or interrupt the trial and how.
- :meth:`Scheduler.when_idle`: with nothing to claim, whether to wait, end the paused trials,
  or stop.
"""

from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import ClassVar, Protocol

import optuna

from hpo.config import StudyConfig
from hpo.trials.budget import Progress
from hpo.trials.promotion import RungRecord

STOP_REASON = "handed back by a stopping worker"
FINAL_RUN_REASON = "handed back to start the study's final run"
STANDBY_REASON = "handed back: a final run takes this device (its host's cores or GPU)"


class Action(enum.Enum):
    CONTINUE = "continue"
    PAUSE = "pause"  # WAITING again at a rung, checkpointed, until a promotion resumes it
    PRUNE = "prune"  # PRUNED now
    END = "end"  # the study's time is spent: COMPLETE with what it reached
    HAND_BACK = "hand back"  # this attempt FAILs, checkpointed; a retry resumes it


@dataclass(frozen=True)
class Decision:
    """What happens to a running trial at an epoch boundary."""

    action: Action
    epoch: int | None = None  # the epoch it was made at
    reason: str | None = None  # a hand-back's fail_reason; a prune's line in the log

    @property
    def interrupts(self) -> bool:
        """Whether the trial leaves training now."""
        return self.action is not Action.CONTINUE

    @property
    def keeps_checkpoint(self) -> bool:
        """Another worker resumes the trial from the checkpoint taken now."""
        return self.action in (Action.PAUSE, Action.HAND_BACK)


CONTINUE = Decision(Action.CONTINUE)


def pause(epoch: int) -> Decision:
    return Decision(Action.PAUSE, epoch, f"paused at epoch {epoch}")


def prune(epoch: int) -> Decision:
    return Decision(Action.PRUNE, epoch, f"pruned at epoch {epoch}")


def end(epoch: int) -> Decision:
    return Decision(Action.END, epoch, "the study's time budget ran out")


def hand_back(epoch: int, reason: str) -> Decision:
    return Decision(Action.HAND_BACK, epoch, reason)


@dataclass(frozen=True)
class EpochEnd:
    """One trial at the end of one epoch, as the scheduler sees it."""

    number: int
    epoch: int
    epochs: int  # the epochs this trial trains in all
    value: float | None = None  # the epoch's metric (the first objective's)
    final_run: bool = False  # the study's final run (hpo.trials.final_run)
    stop_requested: bool = False  # the worker got SIGTERM or Ctrl-C
    warm_start: bool = False  # the space's warm start (the study's first enqueued trial)

    @property
    def last(self) -> bool:
        return self.epoch >= self.epochs


class StudyView(Protocol):
    """What a scheduler may read of the study while deciding; each read is made only when asked."""

    def time_up(self) -> bool:
        """The study's time budget has run out."""

    def final_run_waiting(self) -> bool:
        """The deciding trial's lane's final run is due, can be sized, and nobody has started it."""

    def final_run_here(self) -> bool:
        """A final run trains on the deciding trial's lane (its host's cores or GPU), by another worker."""

    def curves(self) -> Sequence[RungRecord]:
        """Every trial that reported an epoch and did not fail (running, paused or finished;
        a retry stands for its failed attempt), the final run left out."""

    def curve(self) -> Mapping[int, float]:
        """The deciding trial's own values by epoch, this epoch's included."""

    def should_prune(self) -> bool:
        """Optuna's pruner on the deciding trial (the study's pruner; see Scheduler.optuna_pruner)."""


class Source(enum.Enum):
    """Where a claim may find a trial; :meth:`Scheduler.sources` orders them."""

    FINAL_RUN = "final run"  # start the study's final run, if due (hpo.trials.final_run)
    PROMOTED = "promoted"  # a paused trial to resume, from Scheduler.promotions
    OLDEST_SLOT = "oldest slot"  # the oldest WAITING slot (fresh, or a retry)
    NEW_SLOT = "new slot"  # add a WAITING slot and claim it (a time budget alone)


class Idle(enum.Enum):
    """With nothing to claim: what the worker does."""

    WAIT = "wait"  # others still train: stay, to re-queue their trials if they die
    RETIRE_PAUSED = "retire paused"  # no promotion can come: end the paused trials as pruned
    DONE = "done"


class Scheduler(ABC):
    """A policy over a study's running trials; built once per worker from the study's config."""

    name: ClassVar[str] = ""
    # The --final-share a time budget alone gets when none is given (hpo.trials.final_run).
    default_final_share: ClassVar[float] = 0.0

    @classmethod
    def check(cls, config: StudyConfig) -> None:
        """Raise UsageError if ``config`` cannot be run by this policy (at ``study create``)."""

    def sources(self) -> tuple[Source, ...]:
        return (Source.OLDEST_SLOT,)

    def promotions(self, curves: Sequence[RungRecord]) -> list[int]:
        """Numbers of paused trials to resume, the most deserving first."""
        return []

    def optuna_pruner(self) -> optuna.pruners.BasePruner:
        """The pruner the study's trials carry (``trial.should_prune`` asks it)."""
        return optuna.pruners.NopPruner()

    def decide(self, end: EpochEnd, view: StudyView) -> Decision:
        """The one entry point at an epoch boundary.

        A trial that trained all its epochs is never interrupted; a stop signal hands it back
        (another worker resumes it); otherwise the policy decides.

        The warm start is never paused or pruned, only ended by the deadline or handed back:
        it trains to the study's epochs. It is the one configuration known to train well long,
        and the final run's tie rule (hpo.trials.final_run) compares the search's best with it
        at equal epochs. Benchmark 6 (W = 60 min, 2 CPU cores) paused it at epoch 1, where its
        one-cycle schedule is still warming up (0.690 validation), and never promoted it: the
        tie rule had nothing to compare (docs/benchmarks.md).
        """
        if end.last:
            return CONTINUE
        if end.stop_requested:
            return hand_back(end.epoch, STOP_REASON)
        decision = self.on_epoch(end, view)
        if end.warm_start and decision.action in (Action.PAUSE, Action.PRUNE):
            return CONTINUE
        return decision

    @abstractmethod
    def on_epoch(self, end: EpochEnd, view: StudyView) -> Decision:
        """The policy's decision below a trial's last epoch, without a stop signal."""

    def when_idle(self, progress: Progress, promotable: Callable[[], bool]) -> Idle:
        """Nothing to claim: ``promotable()`` reads whether a paused trial could be resumed."""
        if progress.paused and progress.running == 0 and not progress.time_up and not promotable():
            return Idle.RETIRE_PAUSED
        return Idle.DONE if progress.done else Idle.WAIT
