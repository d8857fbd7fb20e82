"""Which plain CNN depth, kernel size, optimizer and learning rate work best? (report 004)

Report 004 searched n_layers 1-5, kernel 3-7, Adam / RMSprop / SGD and lr 1e-5...1e-1 on a log
scale with 100 trials of plain TPE and no pruning. The same space, with pruning, and report
004's model: conv / ReLU / max-pool blocks, then Flatten and fully connected layers (the
"flatten" head; a global-average-pooling head makes a 1-layer CNN a 16-feature linear model that
stays below 60 % on Fashion-MNIST).

The kernel is every integer from 3 to 7, as in the report (not only the odd ones): even kernels
keep the map's size with PyTorch's 'same' padding, one pixel more on the bottom and right.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model={"arch": "cnn", "n_layers": p["n_layers"], "kernel": p["kernel"], "channels": 16, "head": "flatten"},
        optimizer=p["optimizer"],
        lr=p["lr"],
        batch_size=128,
        epochs=epochs,
    )


SPACE = SearchSpace(
    name="cnn",
    description=__doc__ or "",
    params=(
        Param("n_layers", IntDistribution(1, 5)),
        Param("kernel", IntDistribution(3, 7)),
        Param("optimizer", CategoricalDistribution(["adam", "rmsprop", "sgd"])),
        Param("lr", FloatDistribution(1e-5, 1e-1, log=True)),
    ),
    build=build,
    # ASHA's rungs are at epochs 1, 3 and 9: poor trials stop after 1 epoch, promising ones train
    # past 3, where good configurations only just reach 90 % on Fashion-MNIST (docs/benchmarks.md, 5).
    default_epochs=9,
    # Common practice, not tuned on any data set here: two 3x3 conv blocks (LeNet/VGG-style),
    # Adam at its paper's learning rate 1e-3.
    defaults={"n_layers": 2, "kernel": 3, "optimizer": "adam", "lr": 1e-3},
)
