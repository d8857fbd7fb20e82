"""Does AdaMax beat Adam on a ResNet-50, and how deep does a ResNet need to be? (report 002)

Report 002 trained ResNet-50 (about 23.5M parameters) on Stanford Cars with AdaMax and with
Adam and compared F1. Nothing is pretrained here: every network trains from scratch.
Two networks to choose from:

- ``torchvision_resnet50``: torchvision's own ``resnet50`` (weights=None), the report's network.
- ``cpu_sized``: ResNet-50's layout of bottleneck blocks at a width that trains on a CPU (16
  planes in the first stage instead of 64, a 3x3 stem for small images; about 1.5M parameters
  at depth 50), with shallower depths to choose from (bottleneck blocks have 3 convs: depth =
  3 x blocks + 2).

The first trial (warm start) trains the real ResNet-50 where the machine creating the study has
a CUDA GPU, the CPU-sized one otherwise. Create the study with ``--objectives f1`` to rank by F1
as the report did.
"""

from __future__ import annotations

from typing import Any

import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig

# Blocks per stage for each depth of the CPU-sized network; 50 is ResNet-50's (3, 4, 6, 3).
STAGES = {14: [1, 1, 1, 1], 26: [2, 2, 2, 2], 38: [3, 3, 3, 3], 50: [3, 4, 6, 3]}
NETWORKS = ["cpu_sized", "torchvision_resnet50"]


def model_spec(p: dict[str, Any]) -> dict[str, Any]:
    # Trials recorded before the network was a choice trained the CPU-sized one.
    if p.get("network", "cpu_sized") == "torchvision_resnet50":
        return {"arch": "torchvision", "name": "resnet50"}
    return {"arch": "resnet", "block": "bottleneck", "stages": STAGES[p["depth"]], "width": 16}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(model=model_spec(p), optimizer=p["optimizer"], lr=p["lr"], batch_size=128, epochs=epochs,
                       schedule="cosine")


def default_network() -> str:
    """The real ResNet-50 where a CUDA GPU is visible.

    On a CPU it is ~8x slower: a step on 128 Fashion-MNIST images took 23 s against the
    CPU-sized network's 3 s (2 cores, torch 2.14).
    """
    return "torchvision_resnet50" if torch.cuda.is_available() else "cpu_sized"


def defaults(network: str) -> dict[str, Any]:
    """Textbook settings, not tuned here: Adam at its paper's 1e-3, the full depth of 50."""
    return {"network": network, **({"depth": 50} if network == "cpu_sized" else {}), "optimizer": "adam", "lr": 1e-3}


SPACE = SearchSpace(
    name="resnet_optimizer",
    description=__doc__ or "",
    params=(
        Param("network", CategoricalDistribution(NETWORKS)),
        Param("depth", CategoricalDistribution(list(STAGES))).only_if("network", "cpu_sized"),
        Param("optimizer", CategoricalDistribution(["adam", "adamax"])),
        Param("lr", FloatDistribution(1e-4, 1e-2, log=True)),
    ),
    build=build,
    default_epochs=5,
    defaults=defaults(default_network()),
)
