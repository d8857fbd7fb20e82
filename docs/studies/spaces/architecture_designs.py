"""MLP, plain CNN or ResNet, in which shape? (report 001, the designs its conclusions compare)

The ``architecture`` space's models, as named designs that each change one thing from a small
plain CNN (2 blocks of 3x3 standard convs, max-pooling, batch norm); only the designs a
conclusion of the report needs (the bottleneck ResNet, 47 CPU-seconds per 10,000-image epoch,
is left out at this budget). ``plain8-nobn`` is the report's setting for vanishing
gradients: 8 plain conv blocks without batch norm (which itself counters them). All train with
Adam under the one-cycle schedule the ``auto`` space's warm start uses (peak 2e-3). Used by
scripts/run_docs_studies.sh; the model is the space's own ``model_spec``.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from search_spaces.architecture import model_spec

CNN = {"arch": "cnn", "cnn_layers": 2, "kernel": "3", "conv": "standard", "pool": "max", "attention": "none"}
RESNET = {"arch": "resnet", "block": "basic", "blocks_per_stage": 1, "attention": "none"}
DESIGNS: dict[str, dict[str, Any]] = {
    "mlp": {"arch": "mlp", "mlp_layers": 2},
    "plain2": CNN,
    "plain4": {**CNN, "cnn_layers": 4},
    "plain8": {**CNN, "cnn_layers": 8},
    "plain8-nobn": {**CNN, "cnn_layers": 8, "batch_norm": False},
    "resnet-basic": RESNET,
    "kernel5": {**CNN, "kernel": "5"},
    "kernel7": {**CNN, "kernel": "7"},
    "kernel1x1-3x3": {**CNN, "kernel": "1x1-3x3"},
    "conv-im2col": {**CNN, "conv": "im2col"},
}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(model=model_spec(DESIGNS[p["design"]]), optimizer="adam", lr=2e-3, batch_size=128,
                       epochs=epochs, schedule="onecycle")


SPACE = SearchSpace(name="architecture_designs", description=__doc__ or "",
                    params=(Param("design", CategoricalDistribution(list(DESIGNS))),), build=build, default_epochs=10)
