"""Learning-rate schedules by name. Each is stepped once per batch."""

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
}


def make_schedule(name: str, optimizer: torch.optim.Optimizer, steps: int) -> LRScheduler | None:
    if name not in SCHEDULES:
        raise unknown_name("lr schedule", name, SCHEDULES)
    return SCHEDULES[name](optimizer, steps)
