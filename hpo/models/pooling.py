"""Pooling types, by name (reports 001 and 003).

A pooling factory is called as ``factory(channels)`` and returns a module that halves the map's
height and width (2x2 windows, stride 2). Built in: ``max``, ``avg`` and the learnable ``gated``
(:class:`GatedPool2d`). Register another with :func:`register_pooling` from a space module.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F
from torch import nn

from hpo.models.layer_registry import LayerRegistry

PoolFactory = Callable[[int], nn.Module]  # channels -> module halving H and W

WINDOW = 2


class GatedPool2d(nn.Module):
    """Gated max-average pooling (Lee, Gallagher & Tu 2016, "Generalizing pooling functions").

    Each 2x2 window mixes its max and its mean: ``g·max + (1 − g)·avg`` with
    ``g = sigmoid(ω·window)``, where ω is a learned 2x2 filter per channel. So the network
    learns, window by window, how much to keep the strongest response and how much to smooth.
    ω starts at 0: every gate starts at 0.5, halfway between max and average pooling.
    """

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.gate = nn.Conv2d(channels, channels, WINDOW, stride=WINDOW, groups=channels, bias=False)
        nn.init.zeros_(self.gate.weight)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        g = torch.sigmoid(self.gate(x))
        return g * F.max_pool2d(x, WINDOW) + (1 - g) * F.avg_pool2d(x, WINDOW)


def _max(channels: int) -> nn.Module:
    return nn.MaxPool2d(WINDOW)


def _avg(channels: int) -> nn.Module:
    return nn.AvgPool2d(WINDOW)


POOLINGS: LayerRegistry[PoolFactory] = LayerRegistry("pool", {"max": _max, "avg": _avg, "gated": GatedPool2d})


def register_pooling(name: str, factory: PoolFactory) -> None:
    """Make ``factory(channels)`` (a module halving H and W) available as pooling type ``name``."""
    POOLINGS.register(name, factory)


def pooling_names() -> list[str]:
    return POOLINGS.names()


def get_pooling(name: str | PoolFactory) -> PoolFactory:
    return POOLINGS.get(name)
