"""A benchmark space whose every trial does the same work: a fixed CNN, only the learning rate
searched (which does not change the cost of an epoch). Used by benchmarks/host_share.py."""

from __future__ import annotations

from typing import Any

from optuna.distributions import FloatDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model={"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 32},
        optimizer="adam",
        lr=p["lr"],
        batch_size=128,
        epochs=epochs,
    )


SPACE = SearchSpace(
    name="fixed-cnn",
    description=__doc__ or "",
    params=(Param("lr", FloatDistribution(1e-3, 3e-3, log=True)),),
    build=build,
    default_epochs=2,
)
