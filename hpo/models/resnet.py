"""ResNets with the residual block type as a parameter (torchvision's resnet.py shape).

Every block is a :class:`ResidualBlock`: ``BasicBlock``, ``Bottleneck`` and ``WideBlock`` say
only their body and ``expansion``, and :func:`resnet` takes the block by name from
:data:`BLOCKS`. Register another with :func:`register_block` from a space module, as conv,
pooling and attention types are registered.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import ClassVar

import torch
from torch import nn

from hpo.errors import UsageError
from hpo.models.activations import activation_maker
from hpo.models.attention import AttentionFactory, attention_block, get_attention
from hpo.models.layer_registry import LayerRegistry

Act = Callable[[int], nn.Module]  # num_channels -> activation module


class ResidualBlock(nn.Module):
    """``act(body(x) + shortcut(x))``: what every residual block shares.

    A block type says only its ``body`` (ending in a BatchNorm) and its ``expansion`` (output
    channels per plane); the shortcut (identity, or a strided 1x1 projection when the shape
    changes), the activation after the sum, and the zero-initialised last BatchNorm, which
    starts each block as the identity (Goyal et al. 2017), are this base's.
    """

    expansion: ClassVar[int] = 1

    def __init__(self, in_ch: int, planes: int, stride: int, act: Act) -> None:
        super().__init__()
        out_ch = planes * self.expansion
        self.body = self.make_body(in_ch, planes, out_ch, stride, act)
        self.shortcut = _shortcut(in_ch, out_ch, stride)
        self.act = act(out_ch)
        # Zero-init the last BN so each block starts as the identity (Goyal et al. 2017).
        last = self.body[-1]
        assert isinstance(last, nn.BatchNorm2d), f"a residual body ends in BatchNorm2d, not {type(last).__name__}"
        nn.init.zeros_(last.weight)

    def make_body(self, in_ch: int, planes: int, out_ch: int, stride: int, act: Act) -> nn.Sequential:
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class BasicBlock(ResidualBlock):
    """Two 3x3 convs (He et al. 2016, fig. 2 left)."""

    expansion = 1

    def make_body(self, in_ch: int, planes: int, out_ch: int, stride: int, act: Act) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(in_ch, planes, 3, stride, 1, bias=False),
            nn.BatchNorm2d(planes),
            act(planes),
            nn.Conv2d(planes, out_ch, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )


class Bottleneck(ResidualBlock):
    """1x1 reduce, 3x3, 1x1 expand by 4 (the ResNet-50 block)."""

    expansion = 4

    def make_body(self, in_ch: int, planes: int, out_ch: int, stride: int, act: Act) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(in_ch, planes, 1, bias=False),
            nn.BatchNorm2d(planes),
            act(planes),
            nn.Conv2d(planes, planes, 3, stride, 1, bias=False),
            nn.BatchNorm2d(planes),
            act(planes),
            nn.Conv2d(planes, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )


class WideBlock(ResidualBlock):
    """A basic block twice as wide (Zagoruyko & Komodakis 2016, widening factor 2)."""

    expansion = 2

    def make_body(self, in_ch: int, planes: int, out_ch: int, stride: int, act: Act) -> nn.Sequential:
        return nn.Sequential(
            nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False),
            nn.BatchNorm2d(out_ch),
            act(out_ch),
            nn.Conv2d(out_ch, out_ch, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


BLOCKS: LayerRegistry[type[ResidualBlock]] = LayerRegistry(
    "residual block", {"basic": BasicBlock, "bottleneck": Bottleneck, "wide": WideBlock})


def register_block(name: str, block: type[ResidualBlock]) -> None:
    """Make ``block`` (a :class:`ResidualBlock` subclass) nameable as ``{"block": name}``."""
    BLOCKS.register(name, block)


def resnet(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    block: str | type[ResidualBlock] = "basic",
    stages: Sequence[int] = (1, 1, 1),
    width: int = 16,
    activation: str = "relu",
    attention: str | bool | AttentionFactory = "none",
) -> nn.Sequential:
    """A small-image ResNet: a 3x3 stem, then one stage per entry of ``stages``.

    Args:
        block: "basic", "bottleneck", "wide", a registered name, or a ResidualBlock subclass.
        stages: blocks per stage; (3, 4, 6, 3) with "bottleneck" is ResNet-50's layout.
        width: planes of the first stage; each later stage doubles them and halves the map.
        activation: a name from the activation registry, or a module factory.
        attention: an attention type from :mod:`hpo.models.attention` ("none", "se",
            "self_attention", ...) placed after the last stage; True and False, from older
            specs, mean "self_attention" and "none".
    """
    block_cls = BLOCKS.get(block)  # an unknown name fails here, listing the registered ones
    if not stages or any(int(n) < 1 for n in stages):
        raise UsageError(f"stages is {list(stages)}, but every stage needs at least one block")
    act = activation_maker(activation)
    get_attention(attention)  # a bad name fails before anything is built
    layers: list[nn.Module] = [
        nn.Conv2d(int(input_shape[0]), width, 3, 1, 1, bias=False),
        nn.BatchNorm2d(width),
        act(width),
    ]
    in_ch = width
    for i, n_blocks in enumerate(stages):
        planes = width * 2**i
        for j in range(int(n_blocks)):
            stride = 2 if (i > 0 and j == 0) else 1
            layers.append(block_cls(in_ch, planes, stride, act))
            in_ch = planes * block_cls.expansion
    layers += attention_block(attention, in_ch)
    layers += [nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(in_ch, num_classes)]
    return nn.Sequential(*layers)
