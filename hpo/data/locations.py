"""Where data sets are looked for on disk."""

from __future__ import annotations

import os
from pathlib import Path

# Debian's dataset-fashion-mnist package installs the IDX .gz files here.
DEBIAN_FASHION_MNIST = Path("/usr/share/datasets/fashion-mnist")


def data_dirs() -> list[Path]:
    """Folders searched for data sets, in order: HPO_DATA_DIR, then ./data."""
    dirs = []
    if os.environ.get("HPO_DATA_DIR"):
        dirs.append(Path(os.environ["HPO_DATA_DIR"]))
    dirs.append(Path("data"))
    return dirs


def writable_data_dir() -> Path:
    """Where downloads and unpacked copies go: the first of :func:`data_dirs`."""
    return data_dirs()[0]
