"""A search space small enough for tests: a narrow CNN on 8x8 images, trained in a second."""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model={"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": p["channels"]},
        optimizer="adam",
        lr=p["lr"],
        batch_size=32,
        epochs=epochs,
    )


SPACE = SearchSpace(
    name="tiny",
    description="How wide should a 2-layer CNN be on 8x8 images?",
    params=(Param("channels", CategoricalDistribution([4, 16])), Param("lr", FloatDistribution(3e-3, 3e-2, log=True))),
    build=build,
    default_epochs=3,
)
