"""Worker identity: unique names and sampler seeds even when host names and PIDs collide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from hpo.settings import Settings
from hpo.trials import WorkerIdentity


def test_two_workers_with_the_same_host_and_pid_differ_in_name_and_seed() -> None:
    a, b = WorkerIdentity("vm", 1, "00000001"), WorkerIdentity("vm", 1, "00000002")
    assert a.name != b.name and a.name == "vm:1/00000001"
    assert a.sampler_seed(0) != b.sampler_seed(0)
    assert a.sampler_seed(0) == WorkerIdentity("other", 7, "00000001").sampler_seed(0)  # the token decides
    assert a.sampler_seed(None) is None


def test_created_identities_get_fresh_tokens() -> None:
    tokens = {WorkerIdentity.create(Settings()).token for _ in range(100)}
    assert len(tokens) == 100


def test_ordinal_comes_from_the_index_then_the_counter_then_the_token(tmp_path: Path) -> None:
    counter = str(tmp_path / "gpu-counter")
    assert WorkerIdentity("h", 1, "0000000a", worker_index=5, gpu_counter=counter).ordinal() == 5
    first = WorkerIdentity("h", 1, "0000000a", gpu_counter=counter)
    assert [first.ordinal(), first.ordinal()] == [0, 0]  # taken once per worker
    assert WorkerIdentity("h", 1, "0000000b", gpu_counter=counter).ordinal() == 1
    assert WorkerIdentity("h", 1, "0000000a").ordinal() == 10


def test_workers_starting_together_get_distinct_tickets(tmp_path: Path) -> None:
    path = str(tmp_path / "gpu-counter")
    # Separate interpreters started at once (a multiprocessing pool hung under pytest-xdist).
    code = "import sys; from pathlib import Path; from hpo.trials.identity import take_ticket; print(take_ticket(Path(sys.argv[1])))"
    procs = [subprocess.Popen([sys.executable, "-c", code, path], stdout=subprocess.PIPE, text=True) for _ in range(16)]
    tickets = [int(p.communicate(timeout=300)[0]) for p in procs]
    assert sorted(tickets) == list(range(16))
