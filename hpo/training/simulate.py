"""Simulated training: epochs that sleep instead of computing, for benchmarks and smoke tests.

A TrainConfig whose ``extra["simulate"]`` is ``{"seconds": S, "score": A}`` makes
:func:`hpo.training.train` skip the gradient steps and evaluation: each of its epochs sleeps
``S / epochs`` seconds (or ``epoch_seconds``, when given) and reports a validation accuracy that climbs towards ``A``. Everything
around the epochs (the worker, its reports, pruning, checkpoints, the stored model) stays real,
so the sleep space measures the service's coordination cost and nothing else.
"""

from __future__ import annotations

import time
from typing import Any

from hpo.training.config import TrainConfig

KEY = "simulate"


def settings(config: TrainConfig) -> dict[str, Any] | None:
    return config.extra.get(KEY)


def epoch_seconds(config: TrainConfig) -> float:
    """One epoch's sleep: ``epoch_seconds`` when the space fixed it (a timed final run trains
    an unknown number of epochs at the search's pace), else ``seconds`` over the epochs."""
    sim = config.extra[KEY]
    return float(sim["epoch_seconds"]) if sim.get("epoch_seconds") else float(sim["seconds"]) / config.epochs


def epoch(config: TrainConfig, epoch_index: int) -> tuple[float, dict[str, float | None]]:
    """Sleep one epoch's share; returns (train loss, validation metrics) for epoch ``epoch_index`` (1-based)."""
    time.sleep(epoch_seconds(config))
    # Learning-curve shape: most of the final score early, the rest later, so pruning has
    # something to go on and good params stay ahead at every rung.
    accuracy = float(config.extra[KEY]["score"]) * (1.0 - 0.5 ** epoch_index)
    return 1.0 - accuracy, {"accuracy": accuracy, "loss": 1.0 - accuracy, "f1": accuracy}
