"""Data sets that need no files: scikit-learn's bundled digits and a synthetic set for tests."""

from __future__ import annotations

import torch

from hpo.data.base import ImageData


def load_digits() -> ImageData:
    """scikit-learn's 1,797 8x8 handwritten digits, split 80/20 with a fixed seed."""
    from sklearn.datasets import load_digits as sk_load_digits

    bunch = sk_load_digits()
    # Pixel values are 0..16; scale to the 0..255 range every other set uses.
    images = torch.from_numpy((bunch.images * (255.0 / 16.0)).round()).to(torch.uint8)
    x = images.unsqueeze(1).contiguous()
    y = torch.from_numpy(bunch.target).long()
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    n_test = len(x) // 5
    test, train = order[:n_test], order[n_test:]
    return ImageData("digits", x[train], y[train], x[test], y[test], tuple(str(i) for i in range(10)))


def load_synthetic(n_train: int = 512, n_test: int = 128, size: int = 8) -> ImageData:
    """A small, learnable 4-class set: each class is a bright quadrant plus noise.

    Deterministic, so tests that train on it are repeatable.
    """
    generator = torch.Generator().manual_seed(1234)

    def make(n: int) -> tuple[torch.Tensor, torch.Tensor]:
        y = torch.randint(0, 4, (n,), generator=generator)
        x = torch.randint(0, 100, (n, 1, size, size), generator=generator)
        half = size // 2
        for label, (r, c) in enumerate(((0, 0), (0, half), (half, 0), (half, half))):
            rows = y == label
            x[rows, :, r : r + half, c : c + half] += 120
        return x.clamp(0, 255).to(torch.uint8), y

    train_x, train_y = make(n_train)
    test_x, test_y = make(n_test)
    classes = ("top-left", "top-right", "bottom-left", "bottom-right")
    return ImageData("synthetic", train_x, train_y, test_x, test_y, classes)
