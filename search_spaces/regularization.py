"""Which regularization makes a plain CNN generalize best? (report 003)

Report 003 trained a CIFAR-10 CNN without skip connections, added layers to it, and varied
dropout, augmentation, batch norm, max vs average pooling, and Adam vs SGD, reporting
precision, recall, F1, ROC AUC, MCC and accuracy (every trial here records all of them). The
network is plain 3x3 conv blocks, 32 channels wide; its depth is searched from the report's
2 conv layers (SimpleCNN) to 5, and the learning rate is searched because SGD and Adam need
different rates. The report read overfitting from training against validation loss: every trial
records both per epoch (user attr ``loss_curves``), and ``hpo report`` draws them for the best
trials.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    # Trials recorded before depth was searched had 3 blocks; export and retrain rebuild them.
    return TrainConfig(
        model={"arch": "cnn", "n_layers": p.get("n_layers", 3), "kernel": 3, "channels": 32, "pool": p["pool"],
               "batch_norm": p["batch_norm"], "dropout": p["dropout"]},
        optimizer=p["optimizer"],
        lr=p["lr"],
        augment=p["augment"],
        batch_size=128,
        epochs=epochs,
    )


SPACE = SearchSpace(
    name="regularization",
    description=__doc__ or "",
    params=(
        Param("n_layers", IntDistribution(2, 5)),
        Param("dropout", FloatDistribution(0.0, 0.5)),
        Param("augment", CategoricalDistribution(["none", "flip", "crop", "flip+crop", "erasing"])),
        Param("batch_norm", CategoricalDistribution([True, False])),
        Param("pool", CategoricalDistribution(["max", "avg"])),
        Param("optimizer", CategoricalDistribution(["adam", "sgd"])),
        Param("lr", FloatDistribution(1e-4, 1e-1, log=True)),
    ),
    build=build,
    default_epochs=5,
    # The usual CIFAR-10 baseline, not tuned here: 3 conv blocks (the report's NotSimpleCNN),
    # batch norm and max-pooling, the ResNet paper's flip + crop augmentation, no dropout, Adam
    # at its paper's 1e-3.
    defaults={"n_layers": 3, "dropout": 0.0, "augment": "flip+crop", "batch_norm": True, "pool": "max", "optimizer": "adam",
              "lr": 1e-3},
)
