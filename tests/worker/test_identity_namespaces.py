"""Workers that share a host name and a PID (containers, pods) still sample different params.

Each worker runs as PID 1 in a PID namespace of its own (`unshare --pid --fork --mount-proc`),
as compose replicas do. With a seed made from the PID they drew identical random trials.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import optuna
import pytest

from tests.conftest import hpo_cmd, missing
from tests.helpers import run_hpo

pytestmark = pytest.mark.slow  # two worker processes in PID namespaces


def _unshare_available() -> bool:
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", "true"], capture_output=True)
    return probe.returncode == 0


def test_two_workers_running_as_pid_1_sample_different_parameters(tmp_path: Path) -> None:
    if not _unshare_available():
        missing("needs `unshare --pid --fork --mount-proc` (util-linux, as root)")
    env = {**os.environ, "HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}",
           "HPO_ARTIFACTS": str(tmp_path / "artifacts"), "HPO_SLEEP_SECONDS": "0"}
    created = run_hpo("study", "create", "ns", "--space", "sleep", "--dataset", "synthetic", "--trials", "2",
                      "--epochs", "1", "--sampler", "random", "--no-warm-start", "--seed", "0", env=env)
    assert created.returncode == 0, created.stderr
    for _ in range(2):
        worker = subprocess.run(["unshare", "--pid", "--fork", "--mount-proc", *hpo_cmd("worker", "ns", "--max-trials", "1")],
                                capture_output=True, text=True, env=env, timeout=300)
        assert worker.returncode == 0, worker.stderr
    trials = optuna.load_study(study_name="ns", storage=env["HPO_STORAGE"]).trials
    names = [t.user_attrs["worker"] for t in trials]
    host = os.uname().nodename
    assert all(name.startswith(f"{host}:1/") for name in names), names  # same host, both PID 1
    assert names[0] != names[1]  # ... yet told apart
    assert trials[0].params != trials[1].params
