"""The time budget, composed over any policy: the deadline, and the study's final run.

- After the deadline, the first epoch boundary ends the trial with what it reached.
- When the final run is due (hpo.trials.final_run), a search trial is handed back at its next
  epoch boundary, checkpointed, so that this worker starts the run now rather than after the
  trial ends; the run is sized to the time left and would get less the longer it waited.
- The final run itself trains to its end: never paused, never pruned.
- Once it trains on this host, the host's search trials are handed back at their next epoch
  boundary: the run takes every core (hpo.trials.final_phase).
- Claims look for the final run first and, with no trial budget, add slots as they go.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import optuna

from hpo.config import StudyConfig
from hpo.trials.budget import Progress
from hpo.trials.promotion import RungRecord
from hpo.trials.scheduling.base import (
    CONTINUE, FINAL_RUN_REASON, STANDBY_REASON, Decision, EpochEnd, Idle, Scheduler, Source, StudyView, end, hand_back,
)


class TimeBudget(Scheduler):
    """``inner`` under a wall-clock budget; ``final_run``: whether the study has one."""

    def __init__(self, inner: Scheduler, *, final_run: bool, new_slots: bool) -> None:
        self.inner, self.final_run, self.new_slots = inner, final_run, new_slots
        self.name = inner.name  # type: ignore[misc]

    @classmethod
    def over(cls, inner: Scheduler, config: StudyConfig) -> TimeBudget:
        return cls(inner, final_run=bool(config.final_share), new_slots=config.budget is None)

    def sources(self) -> tuple[Source, ...]:
        return ((Source.FINAL_RUN,) if self.final_run else ()) + self.inner.sources() + (
            (Source.NEW_SLOT,) if self.new_slots else ())

    def promotions(self, curves: Sequence[RungRecord]) -> list[int]:
        return self.inner.promotions(curves)

    def optuna_pruner(self) -> optuna.pruners.BasePruner:
        return self.inner.optuna_pruner()

    def on_epoch(self, end_: EpochEnd, view: StudyView) -> Decision:
        if view.time_up():
            return end(end_.epoch)
        if end_.final_run:
            return CONTINUE
        if self.final_run and view.final_run_waiting():
            return hand_back(end_.epoch, FINAL_RUN_REASON)
        if self.final_run and view.final_run_here():
            return hand_back(end_.epoch, STANDBY_REASON)
        return self.inner.on_epoch(end_, view)

    def when_idle(self, progress: Progress, promotable: Callable[[], bool]) -> Idle:
        return self.inner.when_idle(progress, promotable)
