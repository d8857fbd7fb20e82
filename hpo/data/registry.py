"""The data-set registry: name -> loader, plus the ``imagefolder:PATH`` form."""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from hpo.data import imagefolder, small_sets, torchvision_sets
from hpo.data.base import DatasetUnavailable, ImageData
from hpo.errors import HpoError, UsageError, unknown_name


@dataclass(frozen=True)
class DatasetEntry:
    name: str
    description: str
    load: Callable[[bool], ImageData]  # download -> data
    available: Callable[[], bool]


_REGISTRY: dict[str, DatasetEntry] = {}


def register(entry: DatasetEntry) -> None:
    if entry.name in _REGISTRY:
        raise ValueError(f"data set {entry.name!r} is already registered")
    _REGISTRY[entry.name] = entry


_TORCHVISION_DESCRIPTIONS = {
    "fashion-mnist": "Fashion-MNIST, 70k 28x28 grayscale clothing images, 10 classes",
    "mnist": "MNIST, 70k 28x28 grayscale digits, 10 classes",
    "cifar10": "CIFAR-10, 60k 32x32 colour images, 10 classes",
    "cifar100": "CIFAR-100, 60k 32x32 colour images, 100 classes",
}
for _name, _description in _TORCHVISION_DESCRIPTIONS.items():
    register(
        DatasetEntry(
            _name,
            _description,
            functools.partial(torchvision_sets.load_torchvision, _name),
            functools.partial(torchvision_sets.is_available, _name),
        )
    )
register(
    DatasetEntry(
        "digits",
        "scikit-learn's bundled 8x8 digits, 1,797 images, 10 classes (offline)",
        lambda _download: small_sets.load_digits(),
        lambda: True,
    )
)
register(
    DatasetEntry(
        "synthetic",
        "a small generated 4-class 8x8 set, for tests and smoke runs",
        lambda _download: small_sets.load_synthetic(),
        lambda: True,
    )
)


def dataset_names() -> list[str]:
    return list(_REGISTRY)


def entries() -> list[DatasetEntry]:
    return list(_REGISTRY.values())


def validate_name(name: str) -> None:
    """Raise a usage error unless ``name`` is registered or an ``imagefolder:PATH`` a classifier can learn from.

    An image folder is checked without decoding it (hpo.data.imagefolder.inspect_layout): it
    must exist and have at least 2 class folders, each with a readable image, so a study on it
    is refused at ``hpo study create`` rather than failing, or scoring a meaningless 1.0, later.
    """
    if name.startswith(imagefolder.PREFIX):
        try:
            imagefolder.inspect_layout(name)
        except DatasetUnavailable as exc:
            raise UsageError(f"data set {name!r}: {exc}") from None
        return
    if name not in _REGISTRY:
        raise unknown_name("data set", name, [*_REGISTRY, "imagefolder:PATH"])


# Training images (before the validation split) of the sets whose size is fixed, so that `study
# create` can check --train-subset without decoding them.
_TRAIN_SIZES = {"fashion-mnist": 60_000, "mnist": 60_000, "cifar10": 50_000, "cifar100": 50_000,
                "digits": 1_797 - 1_797 // 5}


def train_count(name: str) -> int:
    """How many training images ``name`` has (before the validation split), without decoding
    the large sets. ``name`` must have passed :func:`validate_name`."""
    if name.startswith(imagefolder.PREFIX):
        return len(imagefolder.inspect_layout(name).train)
    if name in _TRAIN_SIZES:
        return _TRAIN_SIZES[name]
    return len(_REGISTRY[name].load(False).train_y)  # small generated sets: cheap


def canonical_name(name: str, image_size: int | None = None) -> str:
    """What to store in the study: image-folder paths made absolute, with their image side
    fixed (``image_size``, from HPO_IMAGE_SIZE at create; default 64); other names as given.

    A relative ``imagefolder:data/tin`` breaks as soon as a worker starts in another folder,
    and a side read by each worker let two workers train one study at 16 and 40 pixels.
    """
    if not name.startswith(imagefolder.PREFIX):
        return name
    try:
        return imagefolder.canonical(name, image_size)
    except DatasetUnavailable as exc:
        raise UsageError(f"data set {name!r}: {exc}") from None


def load(name: str, download: bool = False) -> ImageData:
    """Decode a data set into memory.

    Raises:
        UsageError: unknown name.
        HpoError: the files are not on this machine (the message says where we looked).
    """
    try:
        if name.startswith(imagefolder.PREFIX):
            return imagefolder.load_imagefolder(name)  # it checks the folder as validate_name does
        if name not in _REGISTRY:
            raise unknown_name("data set", name, [*_REGISTRY, "imagefolder:PATH"])
        return _REGISTRY[name].load(download)
    except DatasetUnavailable as exc:
        raise HpoError(str(exc)) from None
