"""Stopping schedulers: Optuna's pruners (ASHA, Hyperband, median) decide, a trial is pruned.

The pruner is Optuna's own, run on the bounded history of hpo.trials.history, and is asked
through ``trial.should_prune`` (the view's :meth:`~StudyView.should_prune`). Optuna prunes
single-objective studies only: a study with several objectives trains every trial to its end.
"""

from __future__ import annotations

from collections.abc import Callable

import optuna

from hpo.config import StudyConfig
from hpo.trials.history import HISTORIES, HistoryPruner
from hpo.trials.scheduling.base import CONTINUE, Decision, EpochEnd, Scheduler, StudyView, prune

PrunerFactory = Callable[[StudyConfig], optuna.pruners.BasePruner]

PRUNERS: dict[str, PrunerFactory] = {
    # ASHA: rungs at epochs 1, 3, 9, ..., keeping the best third (hpo.studies.samplers says why).
    "asha": lambda c: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    "hyperband": lambda c: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=c.epochs, reduction_factor=3),
    "median": lambda c: optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
}


class OptunaStop(Scheduler):
    """Prune when Optuna's pruner says so."""

    def __init__(self, name: str, pruner: optuna.pruners.BasePruner) -> None:
        self.name = name  # type: ignore[misc]  # one class, several registered names
        self._pruner = pruner

    def optuna_pruner(self) -> optuna.pruners.BasePruner:
        return HistoryPruner(self._pruner, HISTORIES)

    def on_epoch(self, end: EpochEnd, view: StudyView) -> Decision:
        return prune(end.epoch) if view.should_prune() else CONTINUE
