"""Fashion-MNIST and MNIST read from their IDX files, as torchvision reads them."""

from __future__ import annotations

import struct
from pathlib import Path

import numpy as np
import pytest

from hpo.data.base import DatasetUnavailable
from hpo.data.torchvision_sets import read_idx


def idx_bytes(array: np.ndarray) -> bytes:
    return bytes([0, 0, 0x08, array.ndim]) + struct.pack(f">{array.ndim}i", *array.shape) + array.tobytes()


def test_an_idx_file_reads_as_its_shape_and_bytes(tmp_path: Path) -> None:
    images = np.arange(2 * 3 * 4, dtype=np.uint8).reshape(2, 3, 4)
    (tmp_path / "images").write_bytes(idx_bytes(images))
    read = read_idx(tmp_path / "images")
    assert read.shape == (2, 3, 4) and np.array_equal(read, images)
    read[0, 0, 0] = 255  # writable, so torch.from_numpy takes it without a warning


@pytest.mark.parametrize("content, says", [
    (b"PK\x03\x04not an idx file", "is not an IDX file of unsigned bytes"),
    (idx_bytes(np.zeros((2, 3, 4), dtype=np.uint8))[:-5], "is cut short"),
])
def test_a_damaged_idx_file_is_refused_in_one_line_that_says_what_to_do(tmp_path: Path, content: bytes,
                                                                        says: str) -> None:
    (tmp_path / "images").write_bytes(content)
    with pytest.raises(DatasetUnavailable, match=says) as refused:
        read_idx(tmp_path / "images")
    assert "delete it and load the data set again" in str(refused.value) and "\n" not in str(refused.value)
