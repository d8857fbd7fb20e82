"""An in-memory :class:`~hpo.trials.StudyView`: a scheduler's inputs as a table row (no database)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from hpo.trials.promotion import RungRecord


@dataclass
class Board:
    time_is_up: bool = False
    final_waiting: bool = False
    final_here: bool = False  # the final run trains on this trial's host
    others: Sequence[RungRecord] = ()
    mine: Mapping[int, float] = field(default_factory=dict)
    pruner_says: bool = False

    def time_up(self) -> bool:
        return self.time_is_up

    def final_run_waiting(self) -> bool:
        return self.final_waiting

    def final_run_here(self) -> bool:
        return self.final_here

    def curves(self) -> Sequence[RungRecord]:
        return self.others

    def curve(self) -> Mapping[int, float]:
        return self.mine

    def should_prune(self) -> bool:
        return self.pruner_says
