"""Budgeted training: a run that ends at a wall-clock time, its learning rate following the clock.

A schedule stepped per batch over a fixed epoch count assumes that the run's length is known.
A run sized to a deadline (the final run of a time budget) only knows its end: if epochs are
slower than measured, an epoch-based schedule is cut before it anneals; if faster, time is left
unused. Li, Yumer and Ramanan ("Budgeted Training: Rethinking Deep Neural Network Training Under
Resource Constraints", ICLR 2020) show that a schedule which decays to zero exactly at the budget
is what makes a budget-limited run good. So here the schedule's progress is the fraction of the
wall-clock budget spent, not of the steps taken, and training stops when it reaches 1.

Progress comes from the wall clock, not from a count of seconds trained: a run resumed after its
worker died continues on the same timeline and still ends on time (the time lost is lost, as it
would be to the deadline).
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from hpo.errors import unknown_name


@dataclass(frozen=True)
class TimeBudget:
    """Training from ``starts`` to ``ends`` (``clock()`` seconds, by default ``time.time()``)."""

    starts: float
    ends: float
    clock: Callable[[], float] = field(default=time.time, compare=False)

    def __post_init__(self) -> None:
        if not self.ends > self.starts:
            raise ValueError(f"a time budget must end after it starts (starts={self.starts}, ends={self.ends})")

    @classmethod
    def lasting(cls, seconds: float, clock: Callable[[], float] = time.time) -> TimeBudget:
        """A budget of ``seconds`` from now."""
        now = clock()
        return cls(now, now + seconds, clock)

    def progress(self) -> float:
        """The share of the budget spent, in [0, 1]."""
        return min(1.0, max(0.0, (self.clock() - self.starts) / (self.ends - self.starts)))

    def spent(self) -> bool:
        return self.progress() >= 1.0


def _onecycle(p: float) -> float:
    # torch's OneCycleLR defaults as a function of progress: cosine warm-up over the first 30 %
    # from peak/25, then cosine annealing to peak/25/1e4.
    start, end, warm = 1 / 25, 1 / 25 / 1e4, 0.3
    if p < warm:
        return start + (1 - start) * (1 - math.cos(math.pi * p / warm)) / 2
    return end + (1 - end) * (1 + math.cos(math.pi * (p - warm) / (1 - warm))) / 2


# Schedule name (hpo.training.schedules) -> multiplier of the base rate at progress p in [0, 1].
SHAPES: dict[str, Callable[[float], float]] = {
    "none": lambda p: 1.0,
    "cosine": lambda p: (1 + math.cos(math.pi * p)) / 2,
    "onecycle": _onecycle,
    "step": lambda p: 0.1 ** min(2, math.floor(3 * p)),
    # Li et al.'s recommendation for budgeted runs: linear decay to zero at the budget.
    "linear": lambda p: 1.0 - p,
}


class TimedSchedule:
    """Sets each parameter group's rate to ``base rate × shape(progress)`` at every step.

    It has the part of ``LRScheduler``'s interface the training loop uses (``step``,
    ``state_dict``, ``load_state_dict``), so checkpoints and resumes treat it like one.
    """

    def __init__(self, shape: str, optimizer: torch.optim.Optimizer, budget: TimeBudget) -> None:
        if shape not in SHAPES:
            raise unknown_name("lr schedule", shape, SHAPES)
        self.shape, self.optimizer, self.budget = shape, optimizer, budget
        self.base_lrs = [float(g["lr"]) for g in optimizer.param_groups]
        self.step()

    def lr_factor(self) -> float:
        return SHAPES[self.shape](self.budget.progress())

    def step(self) -> None:
        factor = self.lr_factor()
        for group, base in zip(self.optimizer.param_groups, self.base_lrs):
            group["lr"] = base * factor

    def get_last_lr(self) -> list[float]:
        return [float(g["lr"]) for g in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        return {"shape": self.shape, "base_lrs": list(self.base_lrs)}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.base_lrs = [float(v) for v in state["base_lrs"]]
        self.step()
