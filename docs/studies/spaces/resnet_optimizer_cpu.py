"""Does AdaMax beat Adam on a bottleneck ResNet? (report 002, as a grid that fits a 2-core CPU)

The ``resnet_optimizer`` space's ``cpu_sized`` network (bottleneck blocks, 16 planes in the
first stage), at depth 14 (one block per stage, 55 CPU-seconds per 10,000-image epoch on this
machine): ResNet-50's own layout (depth 50) would take several times that, past what the docs
budget affords for several seeds. Adam and AdaMax each at their default peak rate (1e-3 and 2e-3) under the one-cycle
schedule of the ``auto`` space's warm start. Used by scripts/run_docs_studies.sh.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from search_spaces.resnet_optimizer import model_spec

DEPTH = 14
DESIGNS: dict[str, dict[str, Any]] = {"adam": {"optimizer": "adam", "lr": 1e-3},
                                      "adamax": {"optimizer": "adamax", "lr": 2e-3}}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    d = DESIGNS[p["design"]]
    return TrainConfig(model=model_spec({"network": "cpu_sized", "depth": DEPTH}), optimizer=d["optimizer"],
                       lr=d["lr"], batch_size=128, epochs=epochs, schedule="onecycle")


SPACE = SearchSpace(name="resnet_optimizer_cpu", description=__doc__ or "",
                    params=(Param("design", CategoricalDistribution(list(DESIGNS))),), build=build, default_epochs=10)
