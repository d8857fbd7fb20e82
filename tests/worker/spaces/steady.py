"""A test space whose trials train long enough, and evenly enough, to be interrupted.

A fixed small CNN on a Fashion-MNIST subset; only the learning rate is searched. Used by the
fault-tolerance tests to kill, stop and cut off workers in the middle of real training.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import FloatDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model={"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 8},
        optimizer="adam",
        lr=p["lr"],
        batch_size=64,
        epochs=epochs,
    )


SPACE = SearchSpace(
    name="steady",
    description=__doc__ or "",
    params=(Param("lr", FloatDistribution(1e-3, 3e-3, log=True)),),
    build=build,
    default_epochs=4,
)
