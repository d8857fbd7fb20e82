"""What is the best model for my data? Architecture, activation, optimizer and regularization at once.

The union of the reference spaces, for users who want the service to find a good classifier
rather than answer one question. The architecture family comes first and its own choices are
conditional on it (kernel and pooling only for the CNN, block type only for the ResNet, ...);
training settings apply to every family. Give it a larger budget (100+ trials) and a pruner.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from search_spaces.architecture import PARAMS as ARCHITECTURE_PARAMS
from search_spaces.architecture import model_spec

ACTIVATIONS = ["relu", "leaky_relu", "gelu", "silu", "mish", "parelu", "dynamic_swish", "adaptive_gelu_mish"]
OPTIMIZERS = ["sgd", "adam", "adamw", "radam", "nadam", "adamax", "rmsprop", "lamb", "sophia"]


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model=model_spec(p),
        optimizer=p["optimizer"],
        lr=p["lr"],
        weight_decay=p["weight_decay"],
        batch_size=p["batch_size"],
        epochs=epochs,
        schedule=p["schedule"],
        label_smoothing=p["label_smoothing"],
        augment=p["augment"],
    )


SPACE = SearchSpace(
    name="auto",
    description=__doc__ or "",
    params=(
        *ARCHITECTURE_PARAMS,
        Param("mlp_width", CategoricalDistribution([128, 256, 512])).only_if("arch", "mlp"),
        # Widths stay CPU-sized: a 32-wide bottleneck ResNet trains ~3.5x slower than a 16-wide one.
        Param("channels", CategoricalDistribution([16, 32])).only_if("arch", "cnn"),
        Param("pool", CategoricalDistribution(["max", "avg"])).only_if("arch", "cnn"),
        Param("batch_norm", CategoricalDistribution([True, False])).only_if("arch", "cnn"),
        Param("width", CategoricalDistribution([8, 16])).only_if("arch", "resnet"),
        Param("dropout", FloatDistribution(0.0, 0.5)).only_if("arch", "mlp", "cnn"),
        Param("activation", CategoricalDistribution(ACTIVATIONS)),
        Param("optimizer", CategoricalDistribution(OPTIMIZERS)),
        Param("lr", FloatDistribution(1e-4, 1e-1, log=True)),
        Param("weight_decay", FloatDistribution(1e-6, 1e-2, log=True)),
        Param("schedule", CategoricalDistribution(["none", "cosine", "onecycle", "step"])),
        Param("label_smoothing", FloatDistribution(0.0, 0.2)),
        Param("augment", CategoricalDistribution(["none", "flip", "crop", "flip+crop", "erasing"])),
        Param("batch_size", CategoricalDistribution([64, 128, 256])),
    ),
    build=build,
    default_epochs=5,
    # A plain textbook baseline, not tuned here: a small CNN (two 3x3 conv blocks, 32 channels,
    # batch norm, max-pooling), ReLU, Adam at 1e-3 with no schedule, and no extra regularization
    # (weight decay at the range's floor, no dropout, smoothing or augmentation), batch 128.
    defaults={"arch": "cnn", "cnn_layers": 2, "kernel": "3", "attention": False, "channels": 32, "pool": "max",
              "batch_norm": True, "dropout": 0.0, "activation": "relu", "optimizer": "adam", "lr": 1e-3,
              "weight_decay": 1e-6, "schedule": "none", "label_smoothing": 0.0, "augment": "none", "batch_size": 128},
)
