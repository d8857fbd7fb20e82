"""Report 003's steps, one design each: from SimpleCNN to the final regularized network.

The ``regularization`` space's model, at the configurations report 003 walked through: its
SimpleCNN (2 conv layers, no batch norm), NotSimpleCNN (3 conv layers with batch norm), then
average instead of max pooling, SGD instead of Adam, dropout, and augmentation (the final
network: 3 conv layers, batch norm, max-pooling, augmentation). One grid cell per step, so each
change is measured against the step it came from. Used by scripts/run_docs_studies.sh; the
model is the space's own ``build``.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from search_spaces.regularization import build as space_build

BASE = {"n_layers": 3, "dropout": 0.0, "augment": "none", "batch_norm": True, "pool": "max", "optimizer": "adam",
        "lr": 1e-3}
STEPS: dict[str, dict[str, Any]] = {
    "1-simple-cnn": {**BASE, "n_layers": 2, "batch_norm": False},
    "2-three-layers-bn": BASE,
    "3-avg-pool": {**BASE, "pool": "avg"},
    "4-sgd": {**BASE, "optimizer": "sgd", "lr": 0.05},
    "5-dropout": {**BASE, "dropout": 0.3},
    "6-augment": {**BASE, "augment": "flip+crop"},
    "7-deeper-augment": {**BASE, "n_layers": 4, "augment": "flip+crop"},
}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return space_build(STEPS[p["step"]], epochs)


SPACE = SearchSpace(
    name="regularization_steps",
    description=__doc__ or "",
    params=(Param("step", CategoricalDistribution(list(STEPS))),),
    build=build,
    default_epochs=3,
)
