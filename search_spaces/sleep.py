"""How much does the service cost per trial? Trials that sleep instead of training.

Each trial sleeps HPO_SLEEP_SECONDS in total (default 1.0, read when the trial starts and
recorded in its train_config) spread over the study's epochs, and reports once per epoch a
made-up validation accuracy that peaks at x = 0.7. The worker, reports, pruning, checkpoints
and the stored (one-layer) model are all real, so benchmarks/coordination.py and
benchmarks/scaling.py measure the service path and nothing else. Use it with the
``synthetic`` data set:

    HPO_SLEEP_SECONDS=1 hpo study create s --space sleep --dataset synthetic --trials 64 --epochs 10
"""

from __future__ import annotations

import os
from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from hpo.training.simulate import KEY


def sleep_seconds() -> float:
    return float(os.environ.get("HPO_SLEEP_SECONDS", "1.0"))


def score(p: dict[str, Any]) -> float:
    """A smooth made-up accuracy in [0.5, 0.95]: best at x = 0.7 with the 'wide' variant."""
    return 0.95 - 0.4 * (p["x"] - 0.7) ** 2 - (0.05 if p["variant"] == "narrow" else 0.0)


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model={"arch": "mlp", "hidden": []},
        epochs=epochs,
        # Per epoch too: a timed final run trains on at this pace for as many epochs as fit.
        extra={KEY: {"seconds": sleep_seconds(), "epoch_seconds": sleep_seconds() / epochs, "score": score(p)}},
    )


SPACE = SearchSpace(
    name="sleep",
    description=__doc__ or "",
    params=(
        Param("x", FloatDistribution(0.0, 1.0)),
        Param("variant", CategoricalDistribution(["wide", "narrow"])),
    ),
    build=build,
    default_epochs=10,
)
