"""Report 003's steps, one design each: from SimpleCNN to the regularized network.

The ``regularization`` space's model, at the configurations report 003 walked through: its
SimpleCNN (2 conv layers, no batch norm), NotSimpleCNN (3 conv layers with batch norm), then
average instead of max pooling, SGD instead of Adam, dropout, and augmentation. One grid cell
per step, so each change is measured against the step it came from. Adam peaks at 2e-3, SGD
(Nesterov momentum) at 0.1 with weight decay 5e-4, both under the one-cycle schedule of the
``auto`` space's warm start. Used by scripts/run_docs_studies.sh; the model is the space's own.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from search_spaces.regularization import build as space_build

BASE = {"n_layers": 3, "dropout": 0.0, "augment": "none", "batch_norm": True, "pool": "max", "optimizer": "adam",
        "lr": 2e-3}
STEPS: dict[str, dict[str, Any]] = {
    "1-simple-cnn": {**BASE, "n_layers": 2, "batch_norm": False},
    "2-three-layers-bn": BASE,
    "3-avg-pool": {**BASE, "pool": "avg"},
    "4-sgd": {**BASE, "optimizer": "sgd", "lr": 0.1},
    "5-dropout": {**BASE, "dropout": 0.3},
    "6-augment": {**BASE, "augment": "flip+crop"},
}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    step = STEPS[p["step"]]
    config = space_build(step, epochs).replace(schedule="onecycle")
    return config.replace(weight_decay=5e-4) if step["optimizer"] == "sgd" else config


SPACE = SearchSpace(name="regularization_steps", description=__doc__ or "",
                    params=(Param("step", CategoricalDistribution(list(STEPS))),), build=build, default_epochs=12)
