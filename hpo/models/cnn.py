"""A plain CNN with no skip connections (reports 001, 003 and 004).

Each block is conv (-> batch norm) -> activation, then a 2x2 pooling while the map is larger
than 1 px; the conv, pooling and attention types are names from their registries
(:mod:`hpo.models.convs`, :mod:`hpo.models.pooling`, :mod:`hpo.models.attention`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from torch import nn

from hpo.errors import UsageError, unknown_name
from hpo.models.activations import activation_maker
from hpo.models.attention import AttentionFactory, attention_block, get_attention
from hpo.models.convs import ConvFactory, get_conv
from hpo.models.pooling import PoolFactory, get_pooling

# A square kernel of any size from 1 to MAX_KERNEL (report 004 searched every integer 3-7; even
# sizes get PyTorch's 'same' padding), or a 1x1 then 3x3 pair (report 001).
MAX_KERNEL = 11
PAIR_KERNEL = "1x1-3x3"
KERNELS = (*(str(k) for k in range(1, MAX_KERNEL + 1)), PAIR_KERNEL)
HEADS = ("gap", "flatten")
# Deep enough for report 001's "6+ layers" without skips (where gradients vanish); past 5
# blocks a 28 px map is already 1 px, so further blocks add depth but no pooling.
MAX_LAYERS = 16


def _conv(in_ch: int, out_ch: int, kernel: str, batch_norm: bool, act: Callable[[int], nn.Module],
          conv: ConvFactory) -> list[nn.Module]:
    if kernel == PAIR_KERNEL:
        # A 1x1 bottleneck then a 3x3 conv: cheaper than a 5x5 with a similar receptive field.
        convs = [(in_ch, 1), (out_ch, 3)]
    else:
        convs = [(in_ch, int(kernel))]
    layers: list[nn.Module] = []
    for conv_in, k in convs:
        layers.append(conv(conv_in, out_ch, k, not batch_norm))  # batch norm's shift replaces the bias
        if batch_norm:
            layers.append(nn.BatchNorm2d(out_ch))
        layers.append(act(out_ch))
    return layers


def cnn(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    n_layers: int = 2,
    kernel: str | int = 3,
    channels: int = 32,
    activation: str = "relu",
    conv: str | ConvFactory = "standard",
    pool: str | PoolFactory = "max",
    batch_norm: bool = True,
    dropout: float = 0.0,
    attention: str | bool | AttentionFactory = "none",
    head: str = "gap",
    hidden: int = 128,
) -> nn.Module:
    """``n_layers`` conv blocks, each doubling the channels, pooling while the map is > 1 px.

    Args:
        n_layers: 1 to 16 conv blocks.
        kernel: a square kernel size from 1 to 11, odd or even (as an int or its string; every
            size keeps the map's size), or "1x1-3x3" for a 1x1 then 3x3 pair.
        channels: width of the first block (later blocks double it, up to 8x).
        activation: a name from the activation registry, or a module factory.
        conv: a conv type from :mod:`hpo.models.convs` ("standard", "depthwise_separable",
            "im2col", or one registered by a space), or a factory.
        pool: a pooling type from :mod:`hpo.models.pooling` ("max", "avg", "gated", ...), or a
            factory.
        dropout: dropout before the classifier.
        attention: an attention type from :mod:`hpo.models.attention` ("none", "se",
            "self_attention", ...) placed after the last conv block; True and False, from
            older specs, mean "self_attention" and "none".
        head: "gap" (global average pooling -> Linear; size-independent, few parameters) or
            "flatten" (Flatten -> Linear(hidden) -> activation -> Linear, report 004's head; it
            keeps where features are, so even one conv layer classifies well).
        hidden: units of the "flatten" head's hidden layer.
    """
    kernel = str(kernel)
    if kernel not in KERNELS:
        raise UsageError(f"unknown kernel {kernel!r}; choose a size from 1 to {MAX_KERNEL} or {PAIR_KERNEL!r}")
    if head not in HEADS:
        raise unknown_name("head", head, HEADS)
    if not 1 <= n_layers <= MAX_LAYERS:
        raise UsageError(f"n_layers is {n_layers}, but must be between 1 and {MAX_LAYERS}")
    # Resolve every name before building, so a bad one fails with its own message.
    act, conv_factory, pool_factory = activation_maker(activation), get_conv(conv), get_pooling(pool)
    get_attention(attention)
    in_ch, h, w = int(input_shape[0]), int(input_shape[1]), int(input_shape[2])
    layers: list[nn.Module] = []
    for i in range(n_layers):
        out_ch = channels * 2 ** min(i, 3)
        layers += _conv(in_ch, out_ch, kernel, batch_norm, act, conv_factory)
        if min(h, w) >= 2:
            layers.append(pool_factory(out_ch))
            h, w = h // 2, w // 2
        in_ch = out_ch
    layers += attention_block(attention, in_ch)
    if head == "flatten":
        layers += [nn.Flatten(), nn.Linear(in_ch * h * w, hidden), act(hidden)]
        in_ch = hidden
    else:
        layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten()]
    if dropout > 0:
        layers.append(nn.Dropout(dropout))
    layers.append(nn.Linear(in_ch, num_classes))
    return nn.Sequential(*layers)
