"""Report 004's CNN with Adam and with SGD (the conclusion its loss curves drew), over seeds.

The ``cnn`` space's network at its defaults (2 conv layers, 3x3 kernels, 16 channels), trained
with Adam (peak 2e-3) and with SGD (Nesterov momentum, peak 0.1, weight decay 5e-4) under the
one-cycle schedule of the ``auto`` space's warm start. The best run is exported to ONNX and
compared with PyTorch, as the report did. Used by scripts/run_docs_studies.sh.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig
from search_spaces.cnn import build as space_build

NETWORK = {"n_layers": 2, "kernel": 3}
DESIGNS: dict[str, dict[str, Any]] = {"adam": {"optimizer": "adam", "lr": 2e-3, "weight_decay": 0.0},
                                      "sgd": {"optimizer": "sgd", "lr": 0.1, "weight_decay": 5e-4}}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    d = DESIGNS[p["design"]]
    return space_build({**NETWORK, "optimizer": d["optimizer"], "lr": d["lr"]}, epochs).replace(
        schedule="onecycle", weight_decay=d["weight_decay"])


SPACE = SearchSpace(name="cnn_designs", description=__doc__ or "",
                    params=(Param("design", CategoricalDistribution(list(DESIGNS))),), build=build, default_epochs=15)
