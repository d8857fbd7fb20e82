"""A ResNet for 28x28 and 32x32 images whose stem may halve the image first: CPU-sized or GPU-sized.

hpo.models.resnet keeps its first stage at the input's full resolution, as ResNets for CIFAR
do (He et al. 2016, sec. 4.2). On a CPU that first stage is most of the cost: for a 16-wide
basic-block ResNet on 28x28 Fashion-MNIST it is ~40 % of the multiply-adds, and its
activations are the largest. ``stem_pool=2`` max-pools after the stem, so every stage runs
on a 14x14 (16x16) map or smaller; the same time then buys a network twice as wide.
Measured on one CPU core (torch 2.14, batch 128, flip+crop): a 32-wide pooled network takes
about as long per epoch as the 16-wide unpooled one (docs/benchmarks.md, search quality).

It is hpo.models.resnet's network with a max-pool inserted after the stem, so the blocks,
their checks and their initialization are that module's.
"""

from __future__ import annotations

from collections.abc import Sequence

from torch import nn

from hpo.errors import UsageError
from hpo.models.resnet import ResidualBlock, resnet

STEM_POOLS = (1, 2)  # 1: no pooling; 2: a 2x2 max-pool after the stem


def small_resnet(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    block: str = "basic",
    stages: Sequence[int] = (1, 1, 1),
    width: int = 32,
    stem_pool: int = 2,
    activation: str = "relu",
) -> nn.Module:
    """A 3x3 stem, an optional 2x2 max-pool, then one residual stage per entry of ``stages``.

    Args:
        block: "basic", "bottleneck" or "wide" (see hpo.models.resnet).
        stages: blocks per stage; each later stage doubles the planes and halves the map.
        width: planes of the first stage.
        stem_pool: 2 halves the image after the stem (CPU-sized), 1 keeps it (GPU-sized).
        activation: a name from the activation registry.

    Example: ``small_resnet((1, 28, 28), 10, width=32, stages=(1, 1, 1))`` has stages on 14x14,
    7x7 and 4x4 maps and 0.31M parameters.
    """
    if stem_pool not in STEM_POOLS:
        raise UsageError(f"stem_pool is {stem_pool!r}, but must be one of {', '.join(map(str, STEM_POOLS))}")
    net = resnet(input_shape, num_classes, block=block, stages=stages, width=width, activation=activation)
    if stem_pool == 1:
        return net
    layers = list(net)
    # The pool goes between the stem and the first residual block, whatever the stem holds.
    first_block = next(i for i, layer in enumerate(layers) if isinstance(layer, ResidualBlock))
    return nn.Sequential(*layers[:first_block], nn.MaxPool2d(2), *layers[first_block:])
