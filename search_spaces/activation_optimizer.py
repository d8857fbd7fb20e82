"""Which activation x optimizer pair trains a one-hidden-layer MLP best? (report 000)

Report 000 trained an MLP with one 512-unit hidden layer (Xavier init, batch 64, 10 epochs) with
every pairing of six activations (three of them learnable) and nine optimizers, three of which
are combinations that hand the weights on from one optimizer to the next over equal shares of
the epochs. Its 82% on Tiny ImageNet is not credible; this space reruns it on held-out data.

Both parameters are categorical, so ``--sampler grid --trials 54`` runs the full grid. Each
optimizer uses its own recommended learning rate (``hpo.optim`` ``default_lr``), each phase of
a combination too: the question is the pairing, not the rate. Combinations need at least as
many epochs as optimizers (3 for sgd+adam+radam).
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig

ACTIVATIONS = ["relu", "swish", "gelu", "parelu", "dynamic_swish", "adaptive_gelu_mish"]
OPTIMIZERS = ["sgd", "adam", "adamw", "radam", "sophia", "lamb", "sgd+adam", "adamw+radam", "sgd+adam+radam"]


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model={"arch": "mlp", "hidden": [512], "activation": p["activation"], "init": "xavier"},
        optimizer=p["optimizer"],
        lr=None,  # each optimizer's default_lr, per phase
        batch_size=64,
        epochs=epochs,
    )


SPACE = SearchSpace(
    name="activation_optimizer",
    description=__doc__ or "",
    params=(
        Param("activation", CategoricalDistribution(ACTIVATIONS)),
        Param("optimizer", CategoricalDistribution(OPTIMIZERS)),
    ),
    build=build,
    default_epochs=10,
    # The textbook pairing, not tuned here: ReLU with Adam. (--sampler grid runs every pair and
    # takes no warm start.)
    defaults={"activation": "relu", "optimizer": "adam"},
)
