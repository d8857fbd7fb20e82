"""Schedulers by name: the study's ``--pruner``. A new policy is one module plus :func:`register`.

    @register("median-at-2")
    def _(config: StudyConfig) -> Scheduler:
        return MedianAtTwo()

:func:`make_scheduler` wraps the named policy in the time budget when the study has one.
"""

from __future__ import annotations

from collections.abc import Callable

from hpo.config import StudyConfig
from hpo.errors import unknown_name
from hpo.trials.promotion import PROMOTE
from hpo.trials.scheduling.base import Scheduler
from hpo.trials.scheduling.none import NoScheduler
from hpo.trials.scheduling.promote import Promotion
from hpo.trials.scheduling.stop import PRUNERS, OptunaStop
from hpo.trials.scheduling.time_budget import TimeBudget

SchedulerFactory = Callable[[StudyConfig], Scheduler]
# name -> (factory, the class, for its check and defaults)
SCHEDULERS: dict[str, tuple[SchedulerFactory, type[Scheduler]]] = {}


def register(name: str, cls: type[Scheduler] | None = None) -> Callable[[SchedulerFactory], SchedulerFactory]:
    """Register ``factory`` (decorated) under ``name``; ``cls`` carries its check and defaults."""

    def add(factory: SchedulerFactory) -> SchedulerFactory:
        SCHEDULERS[name] = (factory, cls or Scheduler)
        return factory

    return add


def scheduler_class(name: str) -> type[Scheduler]:
    if name not in SCHEDULERS:
        raise unknown_name("pruner", name, SCHEDULERS)
    return SCHEDULERS[name][1]


def make_scheduler(config: StudyConfig) -> Scheduler:
    """The study's policy, under its time budget if it has one."""
    if config.pruner not in SCHEDULERS:
        raise unknown_name("pruner", config.pruner, SCHEDULERS)
    policy = SCHEDULERS[config.pruner][0](config)
    return TimeBudget.over(policy, config) if config.time_budget_s is not None else policy


def check(config: StudyConfig) -> None:
    """Raise UsageError if the study's policy cannot run ``config``."""
    scheduler_class(config.pruner).check(config)


def final_share_default(pruner: str, time_budget_s: float | None, objectives: int) -> float:
    """The final run by default on a time budget (with a trial budget or without), for the
    policies whose trials are short (the promotion scheduler: benchmark 6); a final run trains
    the best trial of one objective. A trial budget caps the search; if its trials end first, the
    run starts then, with all the time left (hpo.trials.final_phase)."""
    return scheduler_class(pruner).default_final_share if time_budget_s is not None and objectives == 1 else 0.0


def _optuna_stop(name: str) -> SchedulerFactory:
    def build(config: StudyConfig) -> Scheduler:
        if len(config.objectives) > 1:
            return NoScheduler()  # Optuna prunes single-objective studies only
        return OptunaStop(name, PRUNERS[name](config))

    return build


for _name in PRUNERS:
    register(_name, OptunaStop)(_optuna_stop(_name))
register("none", NoScheduler)(lambda config: NoScheduler())
register(PROMOTE, Promotion)(Promotion.of)
