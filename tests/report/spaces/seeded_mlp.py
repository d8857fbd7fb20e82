"""A test space a grid enumerates in two cells: a small MLP of two widths, really trained."""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(model={"arch": "mlp", "hidden": [p["width"]]}, optimizer="sgd", lr=0.05, batch_size=64,
                       epochs=epochs)


SPACE = SearchSpace(
    name="seeded-mlp",
    description=__doc__ or "",
    params=(Param("width", CategoricalDistribution([4, 32])),),
    build=build,
    default_epochs=2,
)
