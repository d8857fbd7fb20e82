"""ResNets with the residual block type as a parameter (torchvision's resnet.py shape).

``BasicBlock``, ``Bottleneck`` and ``WideBlock`` share one constructor signature and differ in
``expansion``, so :func:`resnet` takes the block by name.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import torch
from torch import nn

from hpo.errors import UsageError, unknown_name
from hpo.models.activations import activation_maker
from hpo.models.attention import AttentionFactory, attention_block, get_attention

Act = Callable[[int], nn.Module]  # num_channels -> activation module


class BasicBlock(nn.Module):
    """Two 3x3 convs (He et al. 2016, fig. 2 left)."""

    expansion = 1

    def __init__(self, in_ch: int, planes: int, stride: int, act: Act) -> None:
        super().__init__()
        out_ch = planes * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, planes, 3, stride, 1, bias=False),
            nn.BatchNorm2d(planes),
            act(planes),
            nn.Conv2d(planes, out_ch, 3, 1, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )
        self.shortcut = _shortcut(in_ch, out_ch, stride)
        self.act = act(out_ch)
        _zero_init_last_bn(self.body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class Bottleneck(nn.Module):
    """1x1 reduce, 3x3, 1x1 expand by 4 (the ResNet-50 block)."""

    expansion = 4

    def __init__(self, in_ch: int, planes: int, stride: int, act: Act) -> None:
        super().__init__()
        out_ch = planes * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, planes, 1, bias=False),
            nn.BatchNorm2d(planes),
            act(planes),
            nn.Conv2d(planes, planes, 3, stride, 1, bias=False),
            nn.BatchNorm2d(planes),
            act(planes),
            nn.Conv2d(planes, out_ch, 1, bias=False),
            nn.BatchNorm2d(out_ch),
        )
        self.shortcut = _shortcut(in_ch, out_ch, stride)
        self.act = act(out_ch)
        _zero_init_last_bn(self.body)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.act(self.body(x) + self.shortcut(x))


class WideBlock(BasicBlock):
    """A basic block twice as wide (Zagoruyko & Komodakis 2016, widening factor 2)."""

    expansion = 2

    def __init__(self, in_ch: int, planes: int, stride: int, act: Act) -> None:
        nn.Module.__init__(self)
        width = planes * self.expansion
        self.body = nn.Sequential(
            nn.Conv2d(in_ch, width, 3, stride, 1, bias=False),
            nn.BatchNorm2d(width),
            act(width),
            nn.Conv2d(width, width, 3, 1, 1, bias=False),
            nn.BatchNorm2d(width),
        )
        self.shortcut = _shortcut(in_ch, width, stride)
        self.act = act(width)
        _zero_init_last_bn(self.body)


def _zero_init_last_bn(body: nn.Sequential) -> None:
    """Zero-init the last BN so each block starts as the identity (Goyal et al. 2017)."""
    last = body[-1]
    assert isinstance(last, nn.BatchNorm2d), f"a residual body ends in BatchNorm2d, not {type(last).__name__}"
    nn.init.zeros_(last.weight)


def _shortcut(in_ch: int, out_ch: int, stride: int) -> nn.Module:
    if stride == 1 and in_ch == out_ch:
        return nn.Identity()
    return nn.Sequential(nn.Conv2d(in_ch, out_ch, 1, stride, bias=False), nn.BatchNorm2d(out_ch))


BLOCKS: dict[str, type[BasicBlock | Bottleneck]] = {"basic": BasicBlock, "bottleneck": Bottleneck, "wide": WideBlock}


def resnet(
    input_shape: Sequence[int],
    num_classes: int,
    *,
    block: str = "basic",
    stages: Sequence[int] = (1, 1, 1),
    width: int = 16,
    activation: str = "relu",
    attention: str | bool | AttentionFactory = "none",
) -> nn.Sequential:
    """A small-image ResNet: a 3x3 stem, then one stage per entry of ``stages``.

    Args:
        block: "basic", "bottleneck" or "wide".
        stages: blocks per stage; (3, 4, 6, 3) with "bottleneck" is ResNet-50's layout.
        width: planes of the first stage; each later stage doubles them and halves the map.
        activation: a name from the activation registry, or a module factory.
        attention: an attention type from :mod:`hpo.models.attention` ("none", "se",
            "self_attention", ...) placed after the last stage; True and False, from older
            specs, mean "self_attention" and "none".
    """
    if block not in BLOCKS:
        raise unknown_name("residual block", block, BLOCKS)
    if not stages or any(int(n) < 1 for n in stages):
        raise UsageError(f"stages is {list(stages)}, but every stage needs at least one block")
    block_cls = BLOCKS[block]
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
