"""A test space a grid enumerates: 6 x 3 = 18 cells whose trials sleep instead of training."""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, IntDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from hpo.training.simulate import KEY


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    score = 0.5 + p["depth"] / 20 + {"u": 0.0, "v": 0.01, "w": 0.02}[p["kind"]]
    return TrainConfig(model={"arch": "mlp", "hidden": []}, epochs=epochs, extra={KEY: {"seconds": 0.3, "score": score}})


SPACE = SearchSpace(
    name="grid-test",
    description=__doc__ or "",
    params=(Param("depth", IntDistribution(1, 6)), Param("kind", CategoricalDistribution(["u", "v", "w"]))),
    build=build,
    default_epochs=2,
)
