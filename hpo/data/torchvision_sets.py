"""Data sets that torchvision knows: Fashion-MNIST, MNIST, CIFAR-10 and CIFAR-100.

They live in one data folder (hpo.data.locations: HPO_DATA_DIR, else the user's cache), which
callers pass as ``data_dir``; None means the folder the environment names.
"""

from __future__ import annotations

import gzip
import os
import shutil
from pathlib import Path
from typing import Any

import numpy as np
import torch

from hpo.files import atomic_target
from hpo.data.base import DatasetUnavailable, ImageData
from hpo.data.locations import DEBIAN_FASHION_MNIST, data_dir_from_env, resolve_data_dir

# Name -> (torchvision's class name, the folder torchvision expects under its root). The class
# is looked up when a set is opened: importing torchvision costs every `hpo` process about 2 s
# of CPU (it pulls in torchvision.models and torch._dynamo), and most never open these sets.
TORCHVISION_SETS: dict[str, tuple[str, str]] = {
    "fashion-mnist": ("FashionMNIST", "FashionMNIST"),
    "mnist": ("MNIST", "MNIST"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py"),
    "cifar100": ("CIFAR100", "cifar-100-python"),
}

_HOW_TO_GET = {
    "fashion-mnist": "install Debian's dataset-fashion-mnist package, or pass --download",
}


def _root(data_dir: str | os.PathLike[str] | None) -> Path:
    """HPO_DATA_DIR's value as given by the caller; None: the folder the environment names."""
    return resolve_data_dir(data_dir) if data_dir is not None else data_dir_from_env()


def _link_debian_fashion_mnist(root: Path) -> bool:
    """Unpack Debian's Fashion-MNIST .gz files into ROOT/FashionMNIST/raw/ for torchvision."""
    if not DEBIAN_FASHION_MNIST.is_dir():
        return False
    raw = root / "FashionMNIST" / "raw"
    try:
        raw.mkdir(parents=True, exist_ok=True)
        for gz in DEBIAN_FASHION_MNIST.glob("*-ubyte.gz"):
            target = raw / gz.name[: -len(".gz")]
            if not target.exists():
                # A private temporary name, then an atomic rename: workers starting together
                # may unpack at once, and none may ever read half a file.
                with atomic_target(target) as partial, gzip.open(gz, "rb") as src, open(partial, "wb") as dst:
                    shutil.copyfileobj(src, dst)
    except OSError:
        return False
    return True


def _open(name: str, train: bool, download: bool, root: Path) -> Any:
    from torchvision import datasets

    cls = getattr(datasets, TORCHVISION_SETS[name][0])
    try:
        return cls(root=str(root), train=train, download=False)
    except RuntimeError:
        pass
    if name == "fashion-mnist" and _link_debian_fashion_mnist(root):
        return cls(root=str(root), train=train, download=False)
    if download:
        return cls(root=str(root), train=train, download=True)
    looked = str(root)
    if name == "fashion-mnist":
        looked += f", {DEBIAN_FASHION_MNIST}"
    how = _HOW_TO_GET.get(name, "pass --download on a machine with internet access")
    raise DatasetUnavailable(
        f"data set {name!r} not found (looked in {looked}); {how}, or set HPO_DATA_DIR to a folder that has it"
    )


def _to_uint8_nchw(data: Any) -> torch.Tensor:
    array = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.ndim == 3:  # (N, H, W) grayscale
        return tensor.unsqueeze(1).contiguous()
    return tensor.permute(0, 3, 1, 2).contiguous()  # (N, H, W, C) colour


def load_torchvision(name: str, download: bool = False, data_dir: str | os.PathLike[str] | None = None) -> ImageData:
    root = _root(data_dir)
    parts = {}
    for split, train in (("train", True), ("test", False)):
        ds = _open(name, train, download, root)
        parts[split] = (_to_uint8_nchw(ds.data), torch.as_tensor(np.asarray(ds.targets)).long())
    return ImageData(
        name=name,
        train_x=parts["train"][0],
        train_y=parts["train"][1],
        test_x=parts["test"][0],
        test_y=parts["test"][1],
        classes=tuple(ds.classes),
    )


def is_available(name: str, data_dir: str | os.PathLike[str] | None = None) -> bool:
    _cls, folder = TORCHVISION_SETS[name]
    root = _root(data_dir)
    if (root / folder).is_dir():
        return True
    return name == "fashion-mnist" and DEBIAN_FASHION_MNIST.is_dir()
