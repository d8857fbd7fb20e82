"""Simulated training: epochs that sleep instead of computing, for benchmarks and smoke tests.

A TrainConfig whose ``extra["simulate"]`` is ``{"seconds": S, "score": A}`` makes
:func:`hpo.training.train` skip the gradient steps and evaluation: each of its epochs sleeps
``S / epochs`` seconds and reports a validation accuracy that climbs towards ``A``. Everything
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


def epoch(config: TrainConfig, epoch_index: int) -> tuple[float, dict[str, float | None]]:
    """Sleep one epoch's share; returns (train loss, validation metrics) for epoch ``epoch_index`` (1-based)."""
    sim = config.extra[KEY]
    time.sleep(float(sim["seconds"]) / config.epochs)
    # Learning-curve shape: most of the final score early, the rest later, so pruning has
    # something to go on and good params stay ahead at every rung.
    accuracy = float(sim["score"]) * (1.0 - 0.5 ** epoch_index)
    return 1.0 - accuracy, {"accuracy": accuracy, "loss": 1.0 - accuracy, "f1": accuracy}
