"""Which architecture suits the data: MLP, plain CNN or ResNet, and in what shape? (report 001)

Report 001 compared fully connected nets, plain CNNs (kernel 3/5/7 or a 1x1->3x3 pair, depth 2
to 6+) and ResNets (basic, bottleneck or wide residual blocks) on MNIST and CIFAR-10, plus its
own convolution, attention and pooling layers. Here the family is the first parameter and each
family's own choices are conditional on it; the optimizer is fixed (Adam) and only its rate is
searched.

- Depth: plain CNNs of 1 to 8 conv blocks (pooling stops once the map is 1 px). The report
  found that without skips 6+ layers suffer from vanishing gradients: every trial records its
  per-layer gradient norms of the first epoch (user attr ``grad_norms_epoch1``) to check that.
- Layers (task 3): the conv type (standard, depthwise-separable, or ``im2col``, a conv with a
  hand-written backward pass), the pooling type (max, average, or learnable gated max/average
  mixing) and the attention type (none, squeeze-and-excitation, spatial self-attention). The
  names come from registries; a space of your own registers more with
  ``hpo.models.register_conv`` / ``register_pooling`` / ``register_attention``.
"""

from __future__ import annotations

from typing import Any

from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig

# The family and its shape. Shared with the ``auto`` space.
FAMILY_PARAMS = (
    Param("arch", CategoricalDistribution(["mlp", "cnn", "resnet"])),
    Param("mlp_layers", IntDistribution(1, 3)).only_if("arch", "mlp"),
    Param("cnn_layers", IntDistribution(1, 8)).only_if("arch", "cnn"),
    Param("kernel", CategoricalDistribution(["3", "5", "7", "1x1-3x3"])).only_if("arch", "cnn"),
    Param("block", CategoricalDistribution(["basic", "bottleneck", "wide"])).only_if("arch", "resnet"),
    Param("blocks_per_stage", IntDistribution(1, 3)).only_if("arch", "resnet"),
)
# Report 001's task 3: which layers the network is made of.
LAYER_PARAMS = (
    Param("conv", CategoricalDistribution(["standard", "depthwise_separable", "im2col"])).only_if("arch", "cnn"),
    Param("pool", CategoricalDistribution(["max", "avg", "gated"])).only_if("arch", "cnn"),
    Param("attention", CategoricalDistribution(["none", "se", "self_attention"])).only_if("arch", "cnn", "resnet"),
)
# What the ``auto`` space imports (its defaults name these): the family plus the attention
# on/off flag that came before attention types. model_spec reads both forms.
PARAMS = (*FAMILY_PARAMS, Param("attention", CategoricalDistribution([False, True])).only_if("arch", "cnn", "resnet"))


def model_spec(p: dict[str, Any]) -> dict[str, Any]:
    """The model for ``p``; widths and regularization default to small CPU-friendly values."""
    activation = p.get("activation", "relu")
    if p["arch"] == "mlp":
        return {"arch": "mlp", "hidden": [p.get("mlp_width", 256)] * p["mlp_layers"], "activation": activation,
                "dropout": p.get("dropout", 0.0), "init": "kaiming"}
    if p["arch"] == "cnn":
        return {"arch": "cnn", "n_layers": p["cnn_layers"], "kernel": p["kernel"], "channels": p.get("channels", 16),
                "activation": activation, "conv": p.get("conv", "standard"), "pool": p.get("pool", "max"),
                "batch_norm": p.get("batch_norm", True), "dropout": p.get("dropout", 0.0), "attention": p["attention"]}
    # Three stages: 28x28 -> 28, 14, 7.
    return {"arch": "resnet", "block": p["block"], "stages": [p["blocks_per_stage"]] * 3,
            "width": p.get("width", 16), "activation": activation, "attention": p["attention"]}


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    return TrainConfig(model=model_spec(p), optimizer="adam", lr=p["lr"], batch_size=128, epochs=epochs)


SPACE = SearchSpace(
    name="architecture",
    description=__doc__ or "",
    params=(*FAMILY_PARAMS, *LAYER_PARAMS, Param("lr", FloatDistribution(1e-4, 1e-2, log=True))),
    build=build,
    default_epochs=5,
    # Common practice, not tuned here: a small plain CNN (two standard 3x3 conv blocks with
    # max-pooling, no attention), Adam's 1e-3.
    defaults={"arch": "cnn", "cnn_layers": 2, "kernel": "3", "conv": "standard", "pool": "max", "attention": "none",
              "lr": 1e-3},
)
