"""The test launcher's forks (tests/launcher.py) behave as real ``hpo`` processes do.

Each case runs the same command both ways, forked and as a real interpreter, and compares what
a test can see: the exit code, the output, the process group, the signals.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests import launcher
from tests.conftest import run_hpo, start_hpo

pytestmark = pytest.mark.skipif(not launcher.ENABLED, reason="HPO_TEST_FORK=0: no launcher to compare")


@pytest.mark.parametrize("args", [("--help",), ("study", "show", "nope"), ("study", "create")])
def test_a_forked_command_exits_and_prints_as_a_real_one(args: tuple[str, ...], tmp_path: Path) -> None:
    env = {"HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}"}
    forked, real = run_hpo(*args, env=env), run_hpo(*args, env=env, fork=False)
    assert (forked.returncode, forked.stdout, forked.stderr) == (real.returncode, real.stdout, real.stderr)


def test_the_environment_and_working_directory_are_the_requests(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    # A relative SQLite path resolves against the child's working directory.
    created = run_hpo("study", "create", "s", "--space", "sleep", "--dataset", "synthetic", "--trials", "1",
                      env={"HPO_STORAGE": "sqlite:///here.db"})
    assert created.returncode == 0, created.stderr
    assert (tmp_path / "here.db").is_file()


def _waiting(tmp_path: Path, name: str, fork: bool) -> tuple[subprocess.Popen[str], Path]:
    log = tmp_path / f"{name}.log"
    proc = start_hpo("worker", "late", "--wait-for-study", "600", "--storage", f"sqlite:///{tmp_path / 'hpo.db'}",
                     log=log, fork=fork)
    return proc, log


def test_a_forked_worker_leads_its_own_group_and_dies_by_the_signal_it_gets(tmp_path: Path) -> None:
    proc, _ = _waiting(tmp_path, "killed", fork=True)
    assert isinstance(proc, launcher.Forked)
    assert os.getpgid(proc.pid) == proc.pid  # at once: a test may killpg as soon as it has the pid
    assert proc.poll() is None
    os.killpg(proc.pid, signal.SIGKILL)
    assert proc.wait(timeout=30) == -signal.SIGKILL
    alive, _ = _waiting(tmp_path, "alive", fork=True)
    try:
        with pytest.raises(subprocess.TimeoutExpired):
            alive.wait(timeout=0.5)
    finally:
        alive.kill()
    deadline = time.monotonic() + 30
    while alive.poll() is None:  # poll alone sees the exit: it does not wait for wait()
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert alive.returncode == -signal.SIGKILL


def test_a_forked_worker_stops_on_sigterm_as_a_real_one(tmp_path: Path) -> None:
    runs = {fork: _waiting(tmp_path, f"fork-{fork}", fork) for fork in (True, False)}
    for proc, log in runs.values():
        deadline = time.monotonic() + 60
        while "waiting for study 'late'" not in log.read_text():
            assert proc.poll() is None and time.monotonic() < deadline, log.read_text()
            time.sleep(0.1)
        proc.send_signal(signal.SIGTERM)
    codes = {fork: proc.wait(timeout=30) for fork, (proc, _) in runs.items()}
    assert codes[True] == codes[False] != 0
    # The same lines, less the clock and the worker's pid and id.
    lines = {fork: [re.sub(r"^\d\d:\d\d:\d\d |\[[^]]*\] ", "", line) for line in log.read_text().splitlines()]
             for fork, (_, log) in runs.items()}
    assert lines[True] == lines[False]
