"""A user's own images: ``imagefolder:PATH`` (Tiny ImageNet, Stanford Cars, ...).

Layouts read, all with one sub-folder per class:

- ``PATH/<class>/...``: every image is training data; 20% are held out as the test split with a
  fixed seed.
- ``PATH/train/<class>/...`` plus a labelled ``PATH/test/`` and/or ``PATH/val/``: the test
  split is ``test/`` when it is labelled, else ``val/``; a labelled ``val/`` beside a labelled
  ``test/`` joins the training data (the search carves its own validation split from it).
- Tiny ImageNet as distributed: ``train/<wnid>/images/*.JPEG`` (images may sit at any depth
  under their class folder), ``val/images/`` labelled by ``val/val_annotations.txt`` (file name,
  tab, class per line), and a ``test/images/`` without labels, which is left out (a split
  without labels cannot be scored).

A held-out folder is labelled if it has ``<folder>_annotations.txt`` or class sub-folders.
Images are converted to RGB, resized to a square side and decoded once. The side belongs to
the study: ``hpo study create`` fixes it (``HPO_IMAGE_SIZE``, default 64) into the stored name,
``imagefolder:/abs/path#px=64``, so every worker, export and evaluation reads the same pixels. :func:`inspect_layout` checks all of this without decoding, so ``hpo study
create`` refuses a folder a classifier cannot learn from before any trial runs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hpo.data.base import DatasetUnavailable, ImageData

PREFIX = "imagefolder:"
# torchvision's ImageFolder extensions, so a folder it reads is a folder we read.
EXTENSIONS = (".jpg", ".jpeg", ".png", ".ppm", ".bmp", ".pgm", ".tif", ".tiff", ".webp")
HELD_OUT = ("test", "val")
UNLABELLED_IMAGES = "images"  # Tiny ImageNet's val/images and test/images hold no class folders
MIN_CLASSES = 2
DEFAULT_SIZE = 64
SIZE_MARK = "#px="  # imagefolder:PATH#px=N: the side the images are resized to
MAX_SIZE = 1024

Sample = tuple[Path, int]  # (image file, class index)


@dataclass(frozen=True)
class Layout:
    """Where the images of each split are, and their classes; no image decoded."""

    root: Path
    classes: tuple[str, ...]  # sorted class-folder names of the training data (ImageFolder's order)
    train: list[Sample]
    test: list[Sample]  # empty: hold out part of train
    test_from: Path | None  # the folder the test split came from


def _split(spec: str) -> tuple[str, int | None]:
    """``imagefolder:PATH#px=N`` -> (PATH, N); without the mark, (PATH, None)."""
    body = spec[len(PREFIX):]
    path, mark, size = body.rpartition(SIZE_MARK)
    if mark and size.isdigit():
        return path, int(size)
    return body, None


def folder_of(spec: str) -> Path:
    """The folder an ``imagefolder:PATH`` spec names, as given (``~`` expanded)."""
    path, _ = _split(spec)
    if not path.strip():
        # Path("") is the current folder: an empty path would quietly scan wherever we run.
        raise DatasetUnavailable(f"{spec!r} names no folder; use imagefolder:PATH, e.g. imagefolder:data/pets")
    return Path(path).expanduser()


def image_size(spec: str) -> int:
    """The side ``spec`` resizes images to: its ``#px=N``, else the default (studies made before)."""
    _, size = _split(spec)
    return DEFAULT_SIZE if size is None else size


def check_size(size: int) -> int:
    if not 1 <= size <= MAX_SIZE:
        raise DatasetUnavailable(f"image size {size} is out of range; HPO_IMAGE_SIZE must be 1 to {MAX_SIZE} pixels")
    return size


def canonical(spec: str, size: int | None = None) -> str:
    """``spec`` with an absolute path (a worker may start in any folder) and its image side
    fixed: ``spec``'s own ``#px=N``, else ``size``, else the default."""
    _, own = _split(spec)
    side = check_size(own if own is not None else size if size is not None else DEFAULT_SIZE)
    return f"{PREFIX}{folder_of(spec).resolve()}{SIZE_MARK}{side}"


def _is_image(path: Path) -> bool:
    return path.suffix.lower() in EXTENSIONS and not path.name.startswith(".")


def _images_under(folder: Path) -> Iterator[Path]:
    """Image files at any depth under ``folder``, in a fixed order (as ImageFolder walks)."""
    for dirpath, dirnames, filenames in os.walk(folder, followlinks=True):
        dirnames.sort()
        for name in sorted(filenames):
            if _is_image(Path(name)):
                yield Path(dirpath) / name


def _class_folders(folder: Path) -> list[str]:
    return sorted(e.name for e in os.scandir(folder) if e.is_dir() and not e.name.startswith("."))


def _by_class_folders(folder: Path, classes: dict[str, int], names: list[str]) -> list[Sample]:
    samples: list[Sample] = []
    for name in names:
        if name not in classes:
            raise DatasetUnavailable(
                f"{folder / name} is a class folder that {folder.parent / 'train'} does not have; "
                f"a held-out split may only use the training classes"
            )
        found = [(path, classes[name]) for path in _images_under(folder / name)]
        if not found:
            raise DatasetUnavailable(f"class folder {folder / name} has no images ({', '.join(EXTENSIONS)}); "
                                     "add images or remove the folder")
        samples += found
    return samples


def _by_annotations(folder: Path, annotations: Path, classes: dict[str, int]) -> list[Sample]:
    """Tiny ImageNet's ``val_annotations.txt``: ``file<TAB>class[<TAB>box...]`` per line."""
    samples: list[Sample] = []
    images = folder / UNLABELLED_IMAGES if (folder / UNLABELLED_IMAGES).is_dir() else folder
    for number, line in enumerate(annotations.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split("\t")
        if len(fields) < 2:
            raise DatasetUnavailable(f"{annotations} line {number} is {line!r}; expected FILE<TAB>CLASS")
        name, label = fields[0].strip(), fields[1].strip()
        if label not in classes:
            raise DatasetUnavailable(f"{annotations} line {number} labels {name} as {label!r}, "
                                     f"which is not a class folder of {folder.parent / 'train'}")
        path = images / name
        if not path.is_file():
            raise DatasetUnavailable(f"{annotations} line {number} names {path}, which does not exist")
        samples.append((path, classes[label]))
    if not samples:
        raise DatasetUnavailable(f"{annotations} labels no images")
    return samples


def _labelled(folder: Path, classes: dict[str, int]) -> list[Sample] | None:
    """The labelled images of a held-out folder, or None when it has no labels."""
    annotations = folder / f"{folder.name}_annotations.txt"
    if annotations.is_file():
        return _by_annotations(folder, annotations, classes)
    names = [n for n in _class_folders(folder) if n != UNLABELLED_IMAGES]
    return _by_class_folders(folder, classes, names) if names else None


def _check_readable(path: Path) -> None:
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(path) as image:
            image.verify()
    except (OSError, UnidentifiedImageError, SyntaxError) as exc:
        raise DatasetUnavailable(f"cannot read image {path}: {exc}; fix or remove it") from None


def inspect_layout(spec: str) -> Layout:
    """Find every split's images and classes, and check a classifier can learn from them.

    Raises:
        DatasetUnavailable: no such folder, fewer than 2 classes, a class without images, a
            held-out split with classes the training data lacks, or an unreadable image (the
            first of each class is opened). The message names the folder or file.
    """
    root = folder_of(spec)
    if not root.is_dir():
        raise DatasetUnavailable(f"folder does not exist: {root}; pass imagefolder:PATH with one "
                                 "sub-folder per class (optionally under train/ and test/ or val/)")
    train_dir = root / "train" if (root / "train").is_dir() else root
    names = _class_folders(train_dir)
    if len(names) < MIN_CLASSES:
        found = f"only the class folder {names[0]!r}" if names else "no class folders"
        raise DatasetUnavailable(f"{train_dir} has {found}, but a classifier needs at least {MIN_CLASSES} classes; "
                                 "put each class's images in a sub-folder of its own")
    classes = {name: i for i, name in enumerate(names)}
    train = _by_class_folders(train_dir, classes, names)
    first_of_class: dict[int, Path] = {}
    for path, label in train:
        first_of_class.setdefault(label, path)
    for path in first_of_class.values():  # opening one image per class catches a folder of broken files
        _check_readable(path)
    test: list[Sample] = []
    test_from = None
    if train_dir != root:
        held_out = {name: _labelled(root / name, classes) for name in HELD_OUT if (root / name).is_dir()}
        labelled = [name for name in HELD_OUT if held_out.get(name)]
        if labelled:
            test_from = root / labelled[0]
            test = held_out[labelled[0]] or []
            for extra in labelled[1:]:  # a labelled val/ beside a labelled test/ is more training data
                train += held_out[extra] or []
            _check_readable(test[0][0])
    return Layout(root, tuple(names), train, test, test_from)


def _read(path: Path, size: int) -> np.ndarray:
    from PIL import Image

    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB").resize((size, size))).transpose(2, 0, 1)
    except OSError as exc:
        raise DatasetUnavailable(f"cannot read image {path}: {exc}; fix or remove it") from None


def _decode(samples: list[Sample], size: int) -> tuple[torch.Tensor, torch.Tensor]:
    images = np.empty((len(samples), 3, size, size), dtype=np.uint8)
    # PIL releases the GIL while it decodes and resizes, so threads decode in parallel.
    with ThreadPoolExecutor(max_workers=min(8, os.cpu_count() or 1)) as pool:
        for i, array in enumerate(pool.map(lambda s: _read(s[0], size), samples)):
            images[i] = array
    return torch.from_numpy(images), torch.tensor([label for _path, label in samples], dtype=torch.long)


def load_imagefolder(spec: str) -> ImageData:
    layout = inspect_layout(spec)
    size = check_size(image_size(spec))
    x, y = _decode(layout.train, size)
    if layout.test:
        test_x, test_y = _decode(layout.test, size)
        return ImageData(spec, x, y, test_x, test_y, layout.classes)
    order = torch.randperm(len(x), generator=torch.Generator().manual_seed(0))
    n_test = max(1, len(x) // 5)
    test, train = order[:n_test], order[n_test:]
    return ImageData(spec, x[train], y[train], x[test], y[test], layout.classes)
