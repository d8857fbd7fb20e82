"""``--pruner none``: every trial trains all its epochs."""

from __future__ import annotations

from hpo.trials.scheduling.base import CONTINUE, Decision, EpochEnd, Scheduler, StudyView


class NoScheduler(Scheduler):
    name = "none"

    def on_epoch(self, end: EpochEnd, view: StudyView) -> Decision:
        return CONTINUE
