"""The in-memory form every data set is decoded into, once per worker."""

from __future__ import annotations

from dataclasses import dataclass

import torch


@dataclass(frozen=True)
class ImageData:
    """A whole classification data set as uint8 tensors.

    Images are ``(N, C, H, W)`` uint8; labels are ``(N,)`` int64. Small data sets fit in memory
    this way (Fashion-MNIST: 55 MB), which is what lets training skip per-sample Python.
    """

    name: str
    train_x: torch.Tensor
    train_y: torch.Tensor
    test_x: torch.Tensor
    test_y: torch.Tensor
    classes: tuple[str, ...]

    @property
    def input_shape(self) -> tuple[int, int, int]:
        c, h, w = self.train_x.shape[1:]
        return int(c), int(h), int(w)

    @property
    def num_classes(self) -> int:
        return len(self.classes)

    def __post_init__(self) -> None:
        for split in ("train", "test"):
            x, y = getattr(self, f"{split}_x"), getattr(self, f"{split}_y")
            if x.dtype != torch.uint8 or x.ndim != 4:
                raise ValueError(f"{split}_x must be uint8 (N, C, H, W), got {x.dtype} {x.shape}")
            if len(x) != len(y):
                raise ValueError(f"{split}_x has {len(x)} images but {split}_y {len(y)} labels")


class DatasetUnavailable(Exception):
    """The data set's files are not on this machine; the message says where we looked."""
