"""Learning-rate schedules by name. Each is stepped once per batch.

These span a run's steps; a run that ends at a wall-clock time uses the same names as shapes
over the time spent instead (hpo.training.budget).
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch.optim.lr_scheduler import LRScheduler

from hpo.errors import unknown_name

# (optimizer, total steps in this optimizer phase) -> scheduler, or None for a constant rate.
ScheduleFactory = Callable[[torch.optim.Optimizer, int], LRScheduler | None]

SCHEDULES: dict[str, ScheduleFactory] = {
    "none": lambda opt, steps: None,
    "cosine": lambda opt, steps: torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(1, steps)),
    "onecycle": lambda opt, steps: torch.optim.lr_scheduler.OneCycleLR(
        opt, max_lr=[g["lr"] for g in opt.param_groups], total_steps=max(2, steps)
    ),
    # Divide the rate by 10 after each third of the run.
    "step": lambda opt, steps: torch.optim.lr_scheduler.StepLR(opt, step_size=max(1, steps // 3), gamma=0.1),
    # Linear decay to zero at the last step: what budgeted training recommends (hpo.training.budget).
    "linear": lambda opt, steps: torch.optim.lr_scheduler.LambdaLR(opt, lambda step: max(0.0, 1 - step / max(1, steps))),
}


def make_schedule(name: str, optimizer: torch.optim.Optimizer, steps: int) -> LRScheduler | None:
    if name not in SCHEDULES:
        raise unknown_name("lr schedule", name, SCHEDULES)
    return SCHEDULES[name](optimizer, steps)
