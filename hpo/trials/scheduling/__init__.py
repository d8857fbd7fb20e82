"""Scheduling: every decision about a running trial, made in one place and returned as a value.

- base.py: :class:`Decision` (continue, pause, prune, end, hand back), :class:`EpochEnd`,
  :class:`StudyView` (what a policy may read), :class:`Source` (where claims look, in order),
  :class:`Scheduler`.
- stop.py (Optuna's pruners), promote.py (pause and promote), none.py; time_budget.py composes
  the deadline and the final run over any of them.
- registry.py: policies by ``--pruner`` name; :func:`register` adds one.
"""

from hpo.trials.scheduling.base import (
    CONTINUE, FINAL_RUN_REASON, STANDBY_REASON, STOP_REASON, Action, Decision, EpochEnd, Idle, Scheduler, Source, StudyView,
    end, hand_back, pause, prune,
)
from hpo.trials.scheduling.registry import (
    SCHEDULERS, check, final_share_default, make_scheduler, register, scheduler_class,
)

__all__ = [
    "CONTINUE", "FINAL_RUN_REASON", "SCHEDULERS", "STANDBY_REASON", "STOP_REASON", "Action", "Decision", "EpochEnd", "Idle",
    "Scheduler", "Source", "StudyView", "check", "end", "final_share_default", "hand_back", "make_scheduler",
    "pause", "prune", "register", "scheduler_class",
]
