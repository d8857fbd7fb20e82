"""A user's own images, one folder per class (Tiny ImageNet, Stanford Cars, ...).

``imagefolder:PATH`` reads PATH/train/<class>/* and PATH/test/<class>/* (or PATH/val/).
Without a test folder, 20% of the images are held out as the test split with a fixed seed.
Images are resized to a square side (``HPO_IMAGE_SIZE``, default 64) and decoded once.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

from hpo.data.base import DatasetUnavailable, ImageData

PREFIX = "imagefolder:"


def _decode(folder: Path, size: int) -> tuple[torch.Tensor, torch.Tensor, list[str]]:
    from torchvision.datasets import ImageFolder

    ds = ImageFolder(str(folder))
    images = np.empty((len(ds), 3, size, size), dtype=np.uint8)
    for i, (path, _label) in enumerate(ds.samples):
        image = ds.loader(path).convert("RGB").resize((size, size))
        images[i] = np.asarray(image).transpose(2, 0, 1)
    return torch.from_numpy(images), torch.tensor(ds.targets).long(), list(ds.classes)


def load_imagefolder(spec: str) -> ImageData:
    root = Path(spec[len(PREFIX) :]).expanduser()
    size = int(os.environ.get("HPO_IMAGE_SIZE", "64"))
    if not root.is_dir():
        raise DatasetUnavailable(
            f"image folder {str(root)!r} does not exist; pass imagefolder:PATH with one "
            "sub-folder per class (optionally under train/ and test/)"
        )
    train_dir = root / "train" if (root / "train").is_dir() else root
    test_dir = next((root / n for n in ("test", "val") if (root / n).is_dir()), None)
    try:
        x, y, classes = _decode(train_dir, size)
    except (FileNotFoundError, OSError) as exc:
        raise DatasetUnavailable(f"cannot read images under {train_dir}: {exc}") from None
    if test_dir is not None:
        test_x, test_y, test_classes = _decode(test_dir, size)
        if test_classes != classes:
            raise DatasetUnavailable(f"{test_dir} has other class folders than {train_dir}")
        return ImageData(spec, x, y, test_x, test_y, tuple(classes))
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    n_test = max(1, len(x) // 5)
    test, train = order[:n_test], order[n_test:]
    return ImageData(spec, x[train], y[train], x[test], y[test], tuple(classes))
