"""Convolution types, by name (report 001, task 3: custom layers).

A conv factory is called as ``factory(in_channels, out_channels, kernel_size, bias)`` and returns
a module that keeps the map's height and width ('same' padding, for odd and even kernels alike;
an even kernel pads one pixel more on the bottom and right, as PyTorch's ``padding="same"``
does). Built in:

- ``standard``: ``nn.Conv2d``.
- ``depthwise_separable``: a k x k conv per channel, then a 1x1 conv across channels (MobileNet,
  Howard et al. 2017): about k² times fewer weights than a standard conv.
- ``im2col``: the same arithmetic as a standard conv, written by hand as unfold + matmul, with a
  hand-written backward pass (:class:`Im2colConvFunction`). Report 001 found custom layers
  "need an exact backward"; this one is checked against finite differences by gradcheck.

Register another with :func:`register_conv` from a space module.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable
from typing import Any

import torch
import torch.nn.functional as F
from torch import nn

from hpo.models.layer_registry import LayerRegistry

# PyTorch pads a copy of the input for padding="same" with an even kernel, and warns once per
# process that it does; that copy is the point here (F.pad would make the same one).
warnings.filterwarnings("ignore", message="Using padding='same' with even kernel lengths", category=UserWarning)

ConvFactory = Callable[[int, int, int, bool], nn.Module]  # (in_ch, out_ch, kernel_size, bias) -> module


def same_padding(kernel_size: int) -> int | str:
    """``nn.Conv2d``'s padding that keeps the map's size at stride 1.

    An odd kernel pads k // 2 on every side (an integer, as before even kernels existed). An even
    one cannot pad symmetrically: PyTorch's ``"same"`` pads (k - 1) // 2 on the top and left and
    one more on the bottom and right, and exports to ONNX as that explicit padding.
    """
    return kernel_size // 2 if kernel_size % 2 else "same"


def same_pads(kernel_size: int) -> tuple[int, int]:
    """(before, after) padding of one spatial dim, the split ``padding="same"`` uses."""
    before = (kernel_size - 1) // 2
    return before, kernel_size - 1 - before


def standard(in_ch: int, out_ch: int, kernel_size: int, bias: bool) -> nn.Module:
    return nn.Conv2d(in_ch, out_ch, kernel_size, padding=same_padding(kernel_size), bias=bias)


class DepthwiseSeparableConv2d(nn.Module):
    """A k x k depthwise conv (one filter per input channel), then a 1x1 pointwise conv."""

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, bias: bool) -> None:
        super().__init__()
        # No bias on the depthwise half: the pointwise conv's bias absorbs it.
        self.depthwise = nn.Conv2d(in_ch, in_ch, kernel_size, padding=same_padding(kernel_size), groups=in_ch,
                                   bias=False)
        self.pointwise = nn.Conv2d(in_ch, out_ch, 1, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.pointwise(self.depthwise(x))


def depthwise_separable(in_ch: int, out_ch: int, kernel_size: int, bias: bool) -> nn.Module:
    if kernel_size == 1:  # a 1x1 depthwise conv only rescales each channel: the pointwise conv alone
        return nn.Conv2d(in_ch, out_ch, 1, bias=bias)
    return DepthwiseSeparableConv2d(in_ch, out_ch, kernel_size, bias)


class Im2colConvFunction(torch.autograd.Function):
    """A stride-1 2-D convolution as unfold + matmul, with its gradients written out.

    Forward: ``cols = unfold(x)`` (N, C·k², L), ``y = W·cols + b`` (N, O, L), L = H'·W'.
    Backward, for an upstream gradient G (N, O, L):
    ``dW = Σ_n G·colsᵀ``, ``db = Σ_{n,l} G``, ``dx = fold(Wᵀ·G)`` (fold sums the overlapping
    patches back, the adjoint of unfold). The backward uses differentiable torch operations,
    so it can itself be differentiated (Sophia's Hessian estimate needs that).
    """

    @staticmethod
    def forward(ctx: Any, x: torch.Tensor, weight: torch.Tensor, bias: torch.Tensor | None, padding: int) -> torch.Tensor:
        n, _c, h, w = x.shape
        out_ch, _in, k, _k = weight.shape
        h_out, w_out = h + 2 * padding - k + 1, w + 2 * padding - k + 1
        cols = F.unfold(x, k, padding=padding)
        y = weight.reshape(out_ch, -1) @ cols
        if bias is not None:
            y = y + bias.view(1, -1, 1)
        # The columns are k² times the input: recompute them in backward rather than keep them.
        ctx.save_for_backward(x, weight)
        ctx.padding, ctx.has_bias = padding, bias is not None
        return y.view(n, out_ch, h_out, w_out)

    @staticmethod
    def backward(ctx: Any, grad_out: torch.Tensor) -> tuple[torch.Tensor | None, ...]:
        x, weight = ctx.saved_tensors
        out_ch, _in, k, _k = weight.shape
        # Under autocast the output (and so its gradient) may be bf16/fp16 while x and W are
        # fp32; compute in the gradient's dtype and hand back each input's own dtype.
        g = grad_out.reshape(grad_out.shape[0], out_ch, -1)
        w2d = weight.reshape(out_ch, -1).to(g.dtype)
        grad_x = grad_w = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_cols = w2d.t() @ g
            grad_x = F.fold(grad_cols, x.shape[-2:], k, padding=ctx.padding).to(x.dtype)
        if ctx.needs_input_grad[1]:
            cols = F.unfold(x.to(g.dtype), k, padding=ctx.padding)
            grad_w = (g @ cols.transpose(1, 2)).sum(0).reshape(weight.shape).to(weight.dtype)
        if ctx.has_bias and ctx.needs_input_grad[2]:
            grad_b = g.sum((0, 2))
        return grad_x, grad_w, grad_b, None


class Im2colConv2d(nn.Module):
    """A conv layer whose forward and backward are :class:`Im2colConvFunction`, with 'same' padding.

    An odd kernel pads symmetrically inside the function (unfold's own padding); an even one is
    first padded by ``F.pad`` the way ``padding="same"`` splits it (one pixel more at the bottom
    and right), then convolved unpadded, so both compute what ``nn.Conv2d`` computes.
    """

    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, bias: bool = True) -> None:
        super().__init__()
        before, after = same_pads(kernel_size)
        # Symmetric: unfold pads. Asymmetric (even k): F.pad in forward, unfold pads nothing.
        self.padding = before if before == after else 0
        self.pre_pad = None if before == after else (before, after, before, after)
        self.weight = nn.Parameter(torch.empty(out_ch, in_ch, kernel_size, kernel_size))
        self.bias = nn.Parameter(torch.empty(out_ch)) if bias else None
        # nn.Conv2d's own initialisation, so the conv types differ only in how they compute.
        nn.init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(in_ch * kernel_size * kernel_size)
            nn.init.uniform_(self.bias, -bound, bound)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if self.pre_pad is not None:
            x = F.pad(x, self.pre_pad)
        return Im2colConvFunction.apply(x, self.weight, self.bias, self.padding)

    def extra_repr(self) -> str:
        out_ch, in_ch, k, _k = self.weight.shape
        padding = self.padding if self.pre_pad is None else "same"
        return f"{in_ch}, {out_ch}, kernel_size={k}, padding={padding}, bias={self.bias is not None}"


CONVS: LayerRegistry[ConvFactory] = LayerRegistry(
    "conv type",
    {"standard": standard, "depthwise_separable": depthwise_separable, "im2col": Im2colConv2d},
)


def register_conv(name: str, factory: ConvFactory) -> None:
    """Make ``factory(in_channels, out_channels, kernel_size, bias)`` available as conv type ``name``."""
    CONVS.register(name, factory)


def conv_names() -> list[str]:
    return CONVS.names()


def get_conv(name: str | ConvFactory) -> ConvFactory:
    return CONVS.get(name)
