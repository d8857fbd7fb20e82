"""A test space whose learning rate makes the loss overflow to NaN/inf in the first epoch."""

from __future__ import annotations

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig

SPACE = SearchSpace(
    name="exploding",
    description=__doc__ or "",
    params=(Param("lr", CategoricalDistribution([1e12])),),
    build=lambda p, epochs: TrainConfig(model={"arch": "mlp", "hidden": [8]}, optimizer="sgd", lr=p["lr"], epochs=epochs),
    default_epochs=1,
)
