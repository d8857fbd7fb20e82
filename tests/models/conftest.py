"""Model tests run thousands of tiny tensor ops on tiny inputs."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One intra-op thread: on tiny tensors a second thread only adds hand-off cost, and on a
    busy 2-core machine that cost grew gradcheck from 1 s to 50 s."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
