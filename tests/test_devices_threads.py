"""Thread counts: each worker on a host gets its share of the cores it may use."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from hpo.devices import available_cores

# As a worker does: the settings parsed from the environment, then the thread count.
PROBE = ("import torch; from hpo.devices import configure_threads; from hpo.settings import Settings; "
         "s = Settings.from_env(); n = configure_threads(s.num_threads, s.workers_per_host); "
         "print(n, torch.get_num_threads(), torch.get_num_interop_threads())")


def _threads(**env: str) -> list[int]:
    clean = {k: v for k, v in os.environ.items() if k not in ("HPO_NUM_THREADS", "HPO_WORKERS_PER_HOST")}
    out = subprocess.run([sys.executable, "-c", PROBE], env={**clean, **env}, capture_output=True, text=True, check=True)
    return [int(v) for v in out.stdout.split()]


def test_available_cores_is_within_the_affinity_mask() -> None:
    assert 1 <= available_cores() <= len(os.sched_getaffinity(0))


@pytest.mark.parametrize("per_host", ["2", "64"])
def test_workers_per_host_split_the_cores(per_host: str) -> None:
    expected = max(1, available_cores() // int(per_host))
    assert _threads(HPO_WORKERS_PER_HOST=per_host) == [expected, expected, 1]


def test_explicit_thread_count_wins() -> None:
    assert _threads(HPO_NUM_THREADS="3", HPO_WORKERS_PER_HOST="64")[:2] == [3, 3]
