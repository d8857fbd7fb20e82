"""Data sets that torchvision knows: Fashion-MNIST, MNIST, CIFAR-10 and CIFAR-100.

They live in one data folder (hpo.data.locations: HPO_DATA_DIR, else the user's cache), which
callers pass as ``data_dir``; None means the folder the environment names, laid out as
torchvision lays them out.

Fashion-MNIST and MNIST are read here, from their IDX files (a few header bytes and raw
uint8), not through ``torchvision.datasets``: importing torchvision costs every process that
loads data (each worker, export, evaluate) about 1.7 s of CPU, for it pulls in
torchvision.models and torch._dynamo. torchvision is imported only to download a set, and for
the CIFAR sets.
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
# is looked up only when torchvision opens the set (see the module's docstring).
TORCHVISION_SETS: dict[str, tuple[str, str]] = {
    "fashion-mnist": ("FashionMNIST", "FashionMNIST"),
    "mnist": ("MNIST", "MNIST"),
    "cifar10": ("CIFAR10", "cifar-10-batches-py"),
    "cifar100": ("CIFAR100", "cifar-100-python"),
}

# The IDX sets: their classes as torchvision names them (torchvision's FashionMNIST.classes and
# MNIST.classes), and the files in ROOT/<folder>/raw/.
IDX_CLASSES: dict[str, tuple[str, ...]] = {
    "fashion-mnist": ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag",
                      "Ankle boot"),
    "mnist": ("0 - zero", "1 - one", "2 - two", "3 - three", "4 - four", "5 - five", "6 - six", "7 - seven",
              "8 - eight", "9 - nine"),
}
IDX_FILES = {"train": ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
             "test": ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte")}

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
    if download:
        return cls(root=str(root), train=train, download=True)
    raise _unavailable(name, root)


def _unavailable(name: str, root: Path) -> DatasetUnavailable:
    looked = str(root)
    if name == "fashion-mnist":
        looked += f", {DEBIAN_FASHION_MNIST}"
    how = _HOW_TO_GET.get(name, "pass --download on a machine with internet access")
    return DatasetUnavailable(
        f"data set {name!r} not found (looked in {looked}); {how}, or set HPO_DATA_DIR to a folder that has it"
    )


def read_idx(path: Path) -> np.ndarray:
    """An IDX file of unsigned bytes (the MNIST format): big-endian dimensions, then the data."""
    raw = bytearray(path.read_bytes())  # writable: torch.from_numpy warns about a read-only array
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0 or raw[2] != 0x08:
        raise DatasetUnavailable(f"{path} is not an IDX file of unsigned bytes; delete it and load the data set again")
    ndim = raw[3]
    shape = tuple(int(d) for d in np.frombuffer(raw, dtype=">i4", count=ndim, offset=4))
    data = np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise DatasetUnavailable(f"{path} holds {data.size} bytes of data, not {shape}: it is cut short; delete it "
                                 "and load the data set again")
    return data.reshape(shape)


def _idx_parts(name: str, download: bool, root: Path) -> dict[str, tuple[np.ndarray, np.ndarray]] | None:
    """Each split's images (N, H, W) and labels, from ROOT/<folder>/raw/; None if a file is missing."""
    raw = root / TORCHVISION_SETS[name][1] / "raw"

    def complete() -> bool:
        return all((raw / f).is_file() for files in IDX_FILES.values() for f in files)

    if not complete() and name == "fashion-mnist":
        _link_debian_fashion_mnist(root)
    if not complete() and download:
        _open(name, True, True, root)  # torchvision downloads both splits' files
    if not complete():
        return None
    return {split: (read_idx(raw / images), read_idx(raw / labels)) for split, (images, labels) in IDX_FILES.items()}


def _to_uint8_nchw(data: Any) -> torch.Tensor:
    array = data.numpy() if isinstance(data, torch.Tensor) else np.asarray(data)
    tensor = torch.from_numpy(np.ascontiguousarray(array))
    if tensor.ndim == 3:  # (N, H, W) grayscale
        return tensor.unsqueeze(1).contiguous()
    return tensor.permute(0, 3, 1, 2).contiguous()  # (N, H, W, C) colour


def load_torchvision(name: str, download: bool = False, data_dir: str | os.PathLike[str] | None = None) -> ImageData:
    root = _root(data_dir)
    if name in IDX_CLASSES:
        idx = _idx_parts(name, download, root)
        if idx is None:
            raise _unavailable(name, root)
        (train_x, train_y), (test_x, test_y) = idx["train"], idx["test"]
        return ImageData(name=name, train_x=_to_uint8_nchw(train_x), train_y=torch.from_numpy(train_y.astype(np.int64)),
                         test_x=_to_uint8_nchw(test_x), test_y=torch.from_numpy(test_y.astype(np.int64)),
                         classes=IDX_CLASSES[name])
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
