"""A test space whose build always fails: an error that would repeat on every trial."""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    raise ValueError("width must be positive")


SPACE = SearchSpace(
    name="broken",
    description=__doc__ or "",
    params=(Param("width", CategoricalDistribution([-1])),),
    build=build,
    default_epochs=1,
)
