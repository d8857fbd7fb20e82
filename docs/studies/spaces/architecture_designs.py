"""MLP, plain CNN or ResNet, in which shape and with which layers? (report 001, as a designed grid)

The ``architecture`` space's models, as named designs that each change one thing from a small
plain CNN (2 blocks of 3x3 standard convs, max-pooling, batch norm): the report's comparisons
side by side in one small grid, where random search over the whole space would need many more
trials to sample each of them. All train with Adam at 1e-3. ``plain8-nobn`` is the report's
setting for vanishing gradients: 8 plain conv blocks without batch norm (which itself counters
them). Used by scripts/run_docs_studies.sh; the model is the space's own ``model_spec``.
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
    "resnet-basic-x3": {**RESNET, "blocks_per_stage": 3},
    "resnet-bottleneck": {**RESNET, "block": "bottleneck"},
    "resnet-wide": {**RESNET, "block": "wide"},
    "kernel5": {**CNN, "kernel": "5"},
    "kernel7": {**CNN, "kernel": "7"},
    "kernel1x1-3x3": {**CNN, "kernel": "1x1-3x3"},
    "conv-im2col": {**CNN, "conv": "im2col"},
    "conv-depthwise": {**CNN, "conv": "depthwise_separable"},
    "pool-avg": {**CNN, "pool": "avg"},
    "pool-gated": {**CNN, "pool": "gated"},
    "attention-se": {**CNN, "attention": "se"},
    "attention-self": {**CNN, "attention": "self_attention"},
}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(model=model_spec(DESIGNS[p["design"]]), optimizer="adam", lr=1e-3, batch_size=128, epochs=epochs)


SPACE = SearchSpace(
    name="architecture_designs",
    description=__doc__ or "",
    params=(Param("design", CategoricalDistribution(list(DESIGNS))),),
    build=build,
    default_epochs=2,
)
