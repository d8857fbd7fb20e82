"""The host-local registry of live workers, and each worker's share of the cores it gives.

Real files, real locks, real processes: a worker in another process counts while it lives,
and stops counting the moment it is SIGKILLed.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hpo.core_share import CoreShare, open_registry, share_of
from hpo.devices import available_cores
from hpo.host_registry import HostRegistry, host_key, least_loaded_gpu

# A worker's registration in another process, alive until it is killed.
HOLDER = ("import sys, time; from hpo.host_registry import HostRegistry; "
          "r = HostRegistry(__import__('pathlib').Path(sys.argv[1]), sys.argv[2]); print('in', flush=True); "
          "time.sleep(600)")


@pytest.mark.parametrize(("count", "taken", "expected"), [
    (1, [], 0),
    (1, [0, 0, 0], 0),
    (2, [], 0),
    (2, [0], 1),
    (2, [0, 1], 0),
    (4, [0, 1, 3], 2),
    (4, [2, 2, 0, 1, 3], 0),  # the lowest of the least loaded
    (3, [1, 1, 0, 0, 2], 2),
    (2, [5, 5, 0], 1),  # GPUs this worker cannot see are nobody's load here
])
def test_cuda_auto_takes_the_least_loaded_gpu(count: int, taken: list[int], expected: int) -> None:
    assert least_loaded_gpu(count, taken) == expected


@pytest.mark.parametrize(("cores", "workers", "threads"), [
    (2, 1, 2), (2, 2, 1), (2, 3, 1), (2, 8, 1), (8, 3, 2), (16, 4, 4), (1, 1, 1), (4, 0, 4),
])
def test_threads_are_the_cores_divided_by_the_live_workers(cores: int, workers: int, threads: int) -> None:
    assert share_of(cores, workers) == threads


def _holder(folder: Path, token: str) -> subprocess.Popen[str]:
    proc = subprocess.Popen([sys.executable, "-c", HOLDER, str(folder), token], stdout=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])})
    assert proc.stdout is not None and proc.stdout.readline().strip() == "in"
    return proc


def test_a_sigkilled_worker_stops_counting_at_once_and_leaves_nothing(tmp_path: Path) -> None:
    me = HostRegistry(tmp_path, "me")
    other = _holder(tmp_path, "other")
    try:
        assert me.live_workers() == 2
    finally:
        other.send_signal(signal.SIGKILL)
        other.wait()
    stale = me.folder / "other.worker"
    assert stale.exists()  # its file outlives it...
    assert me.live_workers() == 1  # ...but never counts, and the next look removes it
    assert not stale.exists()
    me.close()
    assert not me.path.exists()


def test_workers_of_other_hosts_never_count(tmp_path: Path) -> None:
    me = HostRegistry(tmp_path, "me")
    elsewhere = tmp_path / "another-boot-id"  # a shared folder: another machine's entries
    elsewhere.mkdir()
    (elsewhere / "x.worker").write_text("")
    assert me.folder == tmp_path / host_key() and me.live_workers() == 1


def test_gpus_go_to_the_least_loaded_and_free_up_with_their_worker(tmp_path: Path) -> None:
    workers = [HostRegistry(tmp_path, f"w{i}") for i in range(3)]
    assert [w.take_gpu(2) for w in workers] == [0, 1, 0]
    workers[1].close()
    assert HostRegistry(tmp_path, "late").take_gpu(2) == 1


def test_an_unwritable_registry_warns_once_and_falls_back(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "file").write_text("")
    with caplog.at_level(logging.WARNING, logger="hpo.worker"):
        registry = open_registry(str(tmp_path / "file" / "registry"), "me")
    assert registry is None
    assert [r.getMessage().count("\n") for r in caplog.records] == [0]
    assert "HPO_WORKER_REGISTRY" in caplog.text
    share = CoreShare(registry)
    assert share.live_workers() == 1 and share.trial_boundary() == available_cores()  # today's rule


def test_a_joiner_waits_for_a_core_then_both_share_them(tmp_path: Path) -> None:
    cores = available_cores()
    if cores < 2:
        pytest.skip("two workers share cores only where there are two")
    first = CoreShare(HostRegistry(tmp_path, "first"))
    assert first.trial_boundary() == cores  # alone: every core
    second = CoreShare(HostRegistry(tmp_path, "second"))
    # Every seat is held by the first worker's trial: the second does not oversubscribe.
    assert second.trial_boundary(stopped=lambda: True) == 0
    assert first.trial_boundary() == share_of(cores, 2)  # the first shrinks at its next trial
    assert second.trial_boundary() == share_of(cores, 2)
    first.close()
    assert second.trial_boundary() == cores  # and the survivor grows at its next


def test_overrides_pin_the_threads_and_take_no_seats(tmp_path: Path) -> None:
    busy = CoreShare(HostRegistry(tmp_path, "busy"))
    busy.trial_boundary()
    pinned = CoreShare(HostRegistry(tmp_path, "pinned"), num_threads=3)
    per_host = CoreShare(HostRegistry(tmp_path, "per-host"), workers_per_host=64)
    assert pinned.trial_boundary(stopped=lambda: True) == 3
    assert per_host.trial_boundary(stopped=lambda: True) == 1
    gpu = CoreShare(HostRegistry(tmp_path, "gpu"), seats=False)
    assert gpu.trial_boundary(stopped=lambda: True) == share_of(available_cores(), 4)
