"""Attention types for conv feature maps, by name (report 001's custom attention layers).

An attention factory is called as ``factory(channels)`` and returns a module that keeps the
map's shape. Built in:

- ``none``: the identity.
- ``se``: squeeze-and-excitation (Hu et al. 2018): each channel is rescaled by a gate computed
  from the whole map's channel means, i.e. attention over channels.
- ``self_attention``: :class:`SelfAttention2d`, every pixel attending to every other pixel,
  i.e. attention over positions.

Builders place one attention block where the map is smallest (after the last conv stage):
self-attention's cost grows with (H·W)², which is cheap at 7x7 and would dominate at 28x28.
Register another type with :func:`register_attention` from a space module.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from hpo.models.layer_registry import LayerRegistry

AttentionFactory = Callable[[int], nn.Module]  # channels -> module keeping the shape

# Model specs written before attention had types said True or False.
_LEGACY = {False: "none", True: "self_attention"}


def _heads(channels: int, wanted: int) -> int:
    """The largest head count up to ``wanted`` that divides ``channels``."""
    return max(h for h in range(1, wanted + 1) if channels % h == 0)


class SelfAttention2d(nn.Module):
    """x + γ·MHA(LN(x)) over the H·W positions of an (N, C, H, W) map; γ starts at 0.

    The block is residual with a learnable gate initialised to 0 (SAGAN, Zhang et al. 2019),
    so it starts as the identity and the network learns how much attention to use; torch's
    ``nn.MultiheadAttention`` does the work.
    """

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


def squeeze_excitation(channels: int) -> nn.Module:
    # Squeeze to a quarter of the channels, as MobileNetV3 does for small nets (SE-Net's 16x
    # would leave 1-2 units at the 16-32 channels these CPU-sized models have).
    # Imported here: importing torchvision costs every `hpo` process about 2 s of CPU (it
    # pulls in torchvision.models and torch._dynamo), and most processes build no SE block.
    from torchvision.ops import SqueezeExcitation

    return SqueezeExcitation(channels, max(1, channels // 4))


def _none(channels: int) -> nn.Module:
    return nn.Identity()


ATTENTIONS: LayerRegistry[AttentionFactory] = LayerRegistry(
    "attention", {"none": _none, "se": squeeze_excitation, "self_attention": SelfAttention2d}
)


def register_attention(name: str, factory: AttentionFactory) -> None:
    """Make ``factory(channels)`` (a module keeping the map's shape) available as attention type ``name``."""
    ATTENTIONS.register(name, factory)


def attention_names() -> list[str]:
    return ATTENTIONS.names()


def get_attention(name: str | bool | AttentionFactory) -> AttentionFactory:
    """The factory for ``name``; True and False (older model specs) mean self_attention and none."""
    if isinstance(name, bool):
        name = _LEGACY[name]
    return ATTENTIONS.get(name)


def attention_block(name: str | bool | AttentionFactory, channels: int) -> list[nn.Module]:
    """The attention block for a map of ``channels``, as a list: empty for ``none``."""
    block = get_attention(name)(channels)
    return [] if isinstance(block, nn.Identity) else [block]
