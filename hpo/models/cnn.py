"""A plain CNN with no skip connections (reports 003 and 004)."""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from hpo.errors import UsageError, unknown_name
from hpo.models.activations import activation_maker
from hpo.models.attention import SelfAttention2d

KERNELS = ("3", "5", "7", "1x1-3x3")
POOLS = {"max": nn.MaxPool2d, "avg": nn.AvgPool2d}
HEADS = ("gap", "flatten")


def _conv(in_ch: int, out_ch: int, kernel: str, batch_norm: bool, act: Callable[[int], nn.Module]) -> list[nn.Module]:
    if kernel == "1x1-3x3":
        # A 1x1 bottleneck then a 3x3 conv: cheaper than a 5x5 with a similar receptive field.
        convs = [nn.Conv2d(in_ch, out_ch, 1, bias=not batch_norm), nn.Conv2d(out_ch, out_ch, 3, padding=1, bias=not batch_norm)]
    else:
        k = int(kernel)
        convs = [nn.Conv2d(in_ch, out_ch, k, padding=k // 2, bias=not batch_norm)]
    layers: list[nn.Module] = []
    for conv in convs:
        layers.append(conv)
        if batch_norm:
            layers.append(nn.BatchNorm2d(conv.out_channels))
        layers.append(act(conv.out_channels))
    return layers


def cnn(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    n_layers: int = 2,
    kernel: str | int = 3,
    channels: int = 32,
    activation: str = "relu",
    pool: str = "max",
    batch_norm: bool = True,
    dropout: float = 0.0,
    attention: bool = False,
    head: str = "gap",
    hidden: int = 128,
) -> nn.Module:
    """``n_layers`` conv blocks, each doubling the channels, pooling while the map is > 1 px.

    Args:
        n_layers: 1 to 5 conv blocks.
        kernel: 3, 5, 7, or "1x1-3x3" for a 1x1 then 3x3 pair.
        channels: width of the first block (later blocks double it, up to 8x).
        activation: a name from the activation registry, or a module factory.
        pool: "max" or "avg".
        dropout: dropout before the classifier.
        attention: add a self-attention block after the last conv block.
        head: "gap" (global average pooling -> Linear; size-independent, few parameters) or
            "flatten" (Flatten -> Linear(hidden) -> activation -> Linear, report 004's head; it
            keeps where features are, so even one conv layer classifies well).
        hidden: units of the "flatten" head's hidden layer.
    """
    kernel = str(kernel)
    if kernel not in KERNELS:
        raise unknown_name("kernel", kernel, KERNELS)
    if pool not in POOLS:
        raise unknown_name("pool", pool, POOLS)
    if head not in HEADS:
        raise unknown_name("head", head, HEADS)
    if not 1 <= n_layers <= 5:
        raise UsageError(f"n_layers is {n_layers}, but must be between 1 and 5")
    act = activation_maker(activation)
    in_ch, h, w = int(input_shape[0]), int(input_shape[1]), int(input_shape[2])
    layers: list[nn.Module] = []
    for i in range(n_layers):
        out_ch = channels * 2 ** min(i, 3)
        layers += _conv(in_ch, out_ch, kernel, batch_norm, act)
        if min(h, w) >= 2:
            layers.append(POOLS[pool](2))
            h, w = h // 2, w // 2
        in_ch = out_ch
    if attention:
        layers.append(SelfAttention2d(in_ch))
    if head == "flatten":
        layers += [nn.Flatten(), nn.Linear(in_ch * h * w, hidden), act(hidden)]
        in_ch = hidden
    else:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(in_ch, num_classes))
    return nn.Sequential(*layers)
