"""Batched augmentations on device tensors: no per-sample Python (the airbench way).

Each takes a normalized float batch (N, C, H, W) and a generator, and returns a new batch.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
import torch.nn.functional as F

from hpo.errors import unknown_name

Augment = Callable[[torch.Tensor, torch.Generator | None], torch.Tensor]


def flip(x: torch.Tensor, gen: torch.Generator | None = None) -> torch.Tensor:
    """Mirror a random half of the batch left-right."""
    mask = torch.rand(x.shape[0], device=x.device, generator=gen) < 0.5
    return torch.where(mask.view(-1, 1, 1, 1), x.flip(3), x)


def crop(x: torch.Tensor, gen: torch.Generator | None = None, pad: int = 2) -> torch.Tensor:
    """Random translation by up to ``pad`` pixels (pad with zeros, then crop back)."""
    n, _c, h, w = x.shape
    padded = F.pad(x, (pad, pad, pad, pad))
    dy = torch.randint(0, 2 * pad + 1, (n,), device=x.device, generator=gen)
    dx = torch.randint(0, 2 * pad + 1, (n,), device=x.device, generator=gen)
    rows = (dy.view(n, 1) + torch.arange(h, device=x.device).view(1, h)).view(n, 1, h, 1)
    cols = (dx.view(n, 1) + torch.arange(w, device=x.device).view(1, w)).view(n, 1, 1, w)
    batch = torch.arange(n, device=x.device).view(n, 1, 1, 1)
    # Advanced indexing gathers every sample's own window in one operation.
    return padded.permute(0, 2, 3, 1)[batch, rows, cols].squeeze(1).permute(0, 3, 1, 2).contiguous()


def erase(x: torch.Tensor, gen: torch.Generator | None = None, p: float = 0.5) -> torch.Tensor:
    """Zero a random rectangle (a quarter of each side) in a random share ``p`` of the batch."""
    n, _c, h, w = x.shape
    eh, ew = max(1, h // 4), max(1, w // 4)
    top = torch.randint(0, h - eh + 1, (n, 1, 1), device=x.device, generator=gen)
    left = torch.randint(0, w - ew + 1, (n, 1, 1), device=x.device, generator=gen)
    r = torch.arange(h, device=x.device).view(1, h, 1)
    c = torch.arange(w, device=x.device).view(1, 1, w)
    box = (r >= top) & (r < top + eh) & (c >= left) & (c < left + ew)
    chosen = (torch.rand(n, device=x.device, generator=gen) < p).view(n, 1, 1)
    return x.masked_fill((box & chosen).unsqueeze(1), 0.0)


AUGMENTATIONS: dict[str, Augment] = {
    "none": lambda x, gen: x,
    "flip": flip,
    "crop": crop,
    "flip+crop": lambda x, gen: crop(flip(x, gen), gen),
    "erasing": erase,
    # Random erasing on top of the warm start's flip + crop (Zhong et al., AAAI 2020): a
    # regularizer for long runs, measured by benchmarks/final_size.py --augment.
    "flip+crop+erasing": lambda x, gen: erase(crop(flip(x, gen), gen), gen),
}


def get_augment(name: str) -> Augment:
    if name not in AUGMENTATIONS:
        raise unknown_name("augmentation", name, AUGMENTATIONS)
    return AUGMENTATIONS[name]
