"""HPO_DEVICE=cuda:auto: how compose replicas on one host spread over its GPUs.

The tickets themselves (a counter file shared by a host's workers) are tested with the worker
identity that takes them: tests/trials/test_identity.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from hpo.devices import resolve_device
from hpo.errors import UsageError
from hpo.trials import WorkerIdentity


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only host's error")
def test_cuda_auto_without_a_gpu_says_what_to_do() -> None:
    with pytest.raises(UsageError, match="cuda:auto.*no CUDA GPU.*--device cpu"):
        resolve_device("cuda:auto")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_auto_deals_gpus_round_robin(tmp_path: Path) -> None:
    counter = str(tmp_path / "gpu-counter")
    count = torch.cuda.device_count()
    workers = [WorkerIdentity("h", 1, f"{i:08x}", gpu_counter=counter) for i in range(2 * count)]
    assert [resolve_device("cuda:auto", w.ordinal).index for w in workers] == list(range(count)) * 2
