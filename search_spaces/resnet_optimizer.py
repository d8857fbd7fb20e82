"""Does AdaMax beat Adam on a ResNet-50-style network, and how deep does it need to be? (report 002)

Report 002 fine-tuned ResNet-50 on Stanford Cars with AdaMax and Adam and compared F1. Here the
network is ResNet-50's layout of bottleneck blocks trained from scratch, with shallower depths
to choose from (bottleneck blocks have 3 convs: depth = 3 x blocks + 2), at a width that trains
on a CPU. Create the study with ``--objectives f1`` to rank by F1 as the report did.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig

# Blocks per stage for each depth; 50 is ResNet-50's (3, 4, 6, 3).
STAGES = {14: [1, 1, 1, 1], 26: [2, 2, 2, 2], 38: [3, 3, 3, 3], 50: [3, 4, 6, 3]}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(
        model={"arch": "resnet", "block": "bottleneck", "stages": STAGES[p["depth"]], "width": 16},
        optimizer=p["optimizer"],
        lr=p["lr"],
        batch_size=128,
        epochs=epochs,
        schedule="cosine",
    )


SPACE = SearchSpace(
    name="resnet_optimizer",
    description=__doc__ or "",
    params=(
        Param("depth", CategoricalDistribution(list(STAGES))),
        Param("optimizer", CategoricalDistribution(["adam", "adamax"])),
        Param("lr", FloatDistribution(1e-4, 1e-2, log=True)),
    ),
    build=build,
    default_epochs=5,
)
