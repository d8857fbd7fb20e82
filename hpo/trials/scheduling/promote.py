"""``--pruner promote``: successive halving that pauses and promotes (hpo.trials.promotion).

At a rung below the top a trial goes on only if it is the one the policy would promote now;
otherwise it pauses (WAITING, checkpointed) and a free worker resumes the best paused trials
first. The ranking itself is hpo.trials.promotion's pure :func:`promotable`.
"""

from __future__ import annotations

from collections.abc import Sequence

from hpo.config import StudyConfig
from hpo.errors import UsageError
from hpo.trials.final_run import DEFAULT_SHARE
from hpo.trials.promotion import PROMOTE, RungRecord, Rungs, promotable
from hpo.trials.scheduling.base import CONTINUE, Decision, EpochEnd, Scheduler, Source, StudyView, pause


class Promotion(Scheduler):
    name = PROMOTE
    default_final_share = DEFAULT_SHARE  # its trials are short: the best model comes from a final run

    def __init__(self, rungs: Rungs, maximize: bool) -> None:
        self.rungs, self.maximize = rungs, maximize

    @classmethod
    def of(cls, config: StudyConfig) -> Promotion:
        return cls(Rungs.geometric(config.epochs), config.directions[0] == "maximize")

    @classmethod
    def check(cls, config: StudyConfig) -> None:
        if len(config.objectives) > 1:
            raise UsageError(f"--pruner {PROMOTE} ranks trials by one objective, and "
                             f"--objectives has {len(config.objectives)}; pass one objective or another pruner")

    def sources(self) -> tuple[Source, ...]:
        return (Source.PROMOTED, Source.OLDEST_SLOT)

    def promotions(self, curves: Sequence[RungRecord]) -> list[int]:
        return promotable(curves, self.rungs, self.maximize)

    def on_epoch(self, end: EpochEnd, view: StudyView) -> Decision:
        if not self.rungs.is_pause_point(end.epoch):
            return CONTINUE
        # Rank this trial as if it paused here: it goes on only if it would be promoted first.
        others = [r for r in view.curves() if r.number != end.number]
        mine = RungRecord(end.number, dict(view.curve()), paused_at=end.epoch)
        return CONTINUE if self.promotions([*others, mine])[:1] == [end.number] else pause(end.epoch)
