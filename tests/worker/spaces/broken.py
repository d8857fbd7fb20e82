"""A test space whose every trial fails in training: an error that would repeat on every trial.

It builds (so `study create`'s build check passes), but SGD refuses its learning rate.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(model={"arch": "mlp", "hidden": [p["width"]]}, optimizer="sgd", lr=-1.0, epochs=epochs)


SPACE = SearchSpace(
    name="broken",
    description=__doc__ or "",
    params=(Param("width", CategoricalDistribution([8])),),
    build=build,
    default_epochs=1,
)
