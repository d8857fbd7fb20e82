"""HPO_DEVICE=cuda:auto: how workers on one host spread over its GPUs.

Each takes the GPU with the fewest live workers in the host registry; the choice itself is a
pure function, tested with tables in tests/test_host_registry.py. Without a usable registry the
old round robin applies: tickets from a counter file (tests/trials/test_identity.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hpo.devices import resolve_device
from hpo.errors import UsageError
from hpo.host_registry import HostRegistry


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only host's error")
def test_cuda_auto_without_a_gpu_says_what_to_do() -> None:
    with pytest.raises(UsageError, match="cuda:auto.*no CUDA GPU.*--device cpu"):
        resolve_device("cuda:auto")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_auto_takes_the_least_loaded_gpu(tmp_path: Path) -> None:
    count = torch.cuda.device_count()
    workers = [HostRegistry(tmp_path, f"w{i}") for i in range(2 * count)]
    assert [resolve_device("cuda:auto", w.take_gpu).index for w in workers] == list(range(count)) * 2
    workers[0].close()  # GPU 0 now has one worker fewer than the rest: the next one goes there
    assert resolve_device("cuda:auto", HostRegistry(tmp_path, "late").take_gpu).index == 0
