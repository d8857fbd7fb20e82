"""An optional self-attention block for conv feature maps (report 001's custom attention layer).

Every pixel attends to every other pixel of the map, with torch's ``nn.MultiheadAttention``
doing the work. The block is residual with a learnable gate initialised to 0 (SAGAN, Zhang et
al. 2019), so it starts as the identity and the network learns how much attention to use.
Builders place it where the map is smallest (after the last conv stage): the cost grows with
(H·W)², which is cheap at 7x7 and would dominate at 28x28.
"""

from __future__ import annotations

import torch
from torch import nn


def _heads(channels: int, wanted: int) -> int:
    """The largest head count up to ``wanted`` that divides ``channels``."""
    return max(h for h in range(1, wanted + 1) if channels % h == 0)


class SelfAttention2d(nn.Module):
    """x + γ·MHA(LN(x)) over the H·W positions of an (N, C, H, W) map; γ starts at 0."""

    def __init__(self, channels: int, heads: int = 4) -> None:
        super().__init__()
        self.norm = nn.LayerNorm(channels)
        self.attn = nn.MultiheadAttention(channels, _heads(channels, heads), batch_first=True)
        self.gamma = nn.Parameter(torch.zeros(()))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        n, c, h, w = x.shape
        seq = self.norm(x.flatten(2).transpose(1, 2))  # (N, H·W, C)
        # need_weights=True keeps torch on its explicit softmax(QKᵀ/√d)·V path: the fused SDPA
        # kernels have no double backward, which Sophia's create_graph=True needs.
        out, _ = self.attn(seq, seq, seq, need_weights=True)
        return x + self.gamma * out.transpose(1, 2).reshape(n, c, h, w)
