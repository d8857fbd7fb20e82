"""Report 000's MLP, at the designs its conclusions compare (a grid, run over seeds).

The ``activation_optimizer`` space's MLP (512 hidden units, Xavier init, batch 64). Two lines
through the report's 6 x 9 grid, crossing at ReLU + AdamW: every activation with AdamW (which
activation is best, do the learnable ones beat ReLU, is Swish + AdamW the best pair) and every
optimizer with ReLU (which optimizers lead, do combinations beat their parts, where Sophia
stands). Each optimizer runs at its own default peak rate under the one-cycle schedule the
``auto`` space's warm start uses. Used by scripts/run_docs_studies.sh.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig

ACTIVATIONS = ("relu", "swish", "gelu", "parelu", "dynamic_swish", "adaptive_gelu_mish")
OPTIMIZERS = ("adamw", "sgd", "adam", "radam", "sophia", "lamb", "sgd+adam", "adamw+radam", "sgd+adam+radam")
DESIGNS: dict[str, dict[str, Any]] = {
    **{f"{a}/adamw": {"activation": a, "optimizer": "adamw"} for a in ACTIVATIONS},
    **{f"relu/{o}": {"activation": "relu", "optimizer": o} for o in OPTIMIZERS if o != "adamw"},
}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    d = DESIGNS[p["design"]]
    return TrainConfig(model={"arch": "mlp", "hidden": [512], "activation": d["activation"], "init": "xavier"},
                       optimizer=d["optimizer"], lr=None, batch_size=64, epochs=epochs, schedule="onecycle")


SPACE = SearchSpace(name="activation_optimizer_designs", description=__doc__ or "",
                    params=(Param("design", CategoricalDistribution(list(DESIGNS))),), build=build, default_epochs=15)
