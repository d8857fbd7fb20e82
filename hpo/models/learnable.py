"""The learnable activations of report 000: PAReLU, DynamicSwish and AdaptiveGELUMish.

Per-channel parameters (PAReLU's a and b, DynamicSwish's β; AdaptiveGELUMish has one scalar θ)
are sized when the module is built: the builders pass ``num_channels``
(the conv's output channels, or the linear layer's width). Channels are always dimension 1,
so one parameter vector of length C serves both conv maps (N, C, H, W) and linear features
(N, F): :func:`per_channel` reshapes it to (1, C, 1, 1) or (1, F) to broadcast. With
``num_channels=1`` the parameter is shared by every channel. Explicit sizing (rather than lazy
modules) keeps parameter counts, state dicts and ONNX export exact from the start.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def per_channel(param: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """``param`` (C,) shaped to broadcast over dimension 1 of ``x`` (N, C, ...)."""
    return param.view(1, -1, *([1] * (x.dim() - 2)))


class PAReLU(nn.Module):
    """Parametric asymmetric ReLU: f(x) = a·x for x ≥ 0, b·x for x < 0.

    ``a`` and ``b`` are learnable per channel, initialised to 1 and 0.25 (so at
    initialisation it is PReLU with slope 0.25).
    """

    def __init__(self, num_channels: int = 1) -> None:
        super().__init__()
        self.a = nn.Parameter(torch.ones(num_channels))
        self.b = nn.Parameter(torch.full((num_channels,), 0.25))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.where(x >= 0, per_channel(self.a, x) * x, per_channel(self.b, x) * x)


class DynamicSwish(nn.Module):
    """Swish with a learnable slope: f(x) = x·sigmoid(β·x).

    β is learnable per channel, initialised to 1 (so at initialisation it is SiLU).
    """

    def __init__(self, num_channels: int = 1) -> None:
        super().__init__()
        self.beta = nn.Parameter(torch.ones(num_channels))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x * torch.sigmoid(per_channel(self.beta, x) * x)


class AdaptiveGELUMish(nn.Module):
    """A learned blend: f(x) = w·GELU(x) + (1 − w)·Mish(x), with w = sigmoid(θ).

    θ is one learnable scalar, initialised to 0 (so w = 0.5 at initialisation), as report 000
    defines it; so the constructor takes no channel count.
    """

    def __init__(self) -> None:
        super().__init__()
        self.theta = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        w = torch.sigmoid(self.theta)
        return w * F.gelu(x) + (1 - w) * F.mish(x)
