"""HPO_DEVICE=cuda:auto: how compose replicas on one host spread over its GPUs."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

import pytest
import torch

from hpo.devices import resolve_device, take_ticket, worker_ordinal
from hpo.errors import UsageError


def _ticket(path: str) -> int:
    return take_ticket(Path(path))


def test_tickets_count_up_from_zero(tmp_path: Path) -> None:
    path = tmp_path / "volume" / "gpu-counter"
    assert [take_ticket(path) for _ in range(3)] == [0, 1, 2]
    assert path.read_text() == "3"


def test_workers_starting_together_get_distinct_tickets(tmp_path: Path) -> None:
    path = str(tmp_path / "gpu-counter")
    # spawn, not fork: a forked child of a process with torch and live threads can deadlock.
    with multiprocessing.get_context("spawn").Pool(4) as pool:
        tickets = pool.map(_ticket, [path] * 16)
    assert sorted(tickets) == list(range(16))


def test_explicit_index_wins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_GPU_COUNTER", str(tmp_path / "gpu-counter"))
    monkeypatch.setenv("HPO_WORKER_INDEX", "5")
    assert worker_ordinal() == 5
    monkeypatch.delenv("HPO_WORKER_INDEX")
    assert [worker_ordinal(), worker_ordinal()] == [0, 1]


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only host's error")
def test_cuda_auto_without_a_gpu_says_what_to_do() -> None:
    with pytest.raises(UsageError, match="cuda:auto.*no CUDA GPU.*--device cpu"):
        resolve_device("cuda:auto")


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_auto_deals_gpus_round_robin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("HPO_WORKER_INDEX", raising=False)
    monkeypatch.setenv("HPO_GPU_COUNTER", str(tmp_path / "gpu-counter"))
    count = torch.cuda.device_count()
    assert [resolve_device("cuda:auto").index for _ in range(2 * count)] == list(range(count)) * 2
