"""`hpo study delete` under a worker that is between trials, with real worker processes.

Issue 27: a worker waiting for work when its study was deleted crashed with
``KeyError: 'Record does not exist.'`` at its next claim or progress read. It must say the
study was deleted and exit as the in-trial case does (tests/cli/test_bad_input_lifecycle.py).
"""

from __future__ import annotations

import os
import signal
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import run_hpo, start_hpo

pytestmark = pytest.mark.slow  # two worker processes


def _until(check: Callable[[], bool], what: str, timeout: float = 180) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.2)


def _running(storage: str) -> bool:
    trials = optuna.load_study(study_name="d", storage=storage).get_trials(deepcopy=False)
    return any(t.state == TrialState.RUNNING for t in trials)


def test_a_waiting_worker_whose_study_is_deleted_says_so_and_exits(storage_url: str, tmp_path: Path) -> None:
    # One trial, which the first worker holds for a minute: the second finds nothing to claim
    # and waits between trials, polling the study's progress every half second.
    env = {"HPO_STORAGE": storage_url, "HPO_SLEEP_SECONDS": "60"}
    created = run_hpo("study", "create", "d", "--space", "sleep", "--dataset", "synthetic", "--trials", "1",
                      "--epochs", "1", "--pruner", "none", "--heartbeat-interval", "1", "--grace-period", "10", env=env)
    assert created.returncode == 0, created.stderr
    holder = start_hpo("worker", "d", env=env, log=tmp_path / "holder.log")
    log = tmp_path / "waiter.log"
    waiter = None
    try:
        _until(lambda: _running(storage_url), "the first worker to claim the trial")
        waiter = start_hpo("worker", "d", env=env, log=log)
        _until(lambda: "working on study 'd'" in log.read_text(), "the second worker to start")
        time.sleep(1.0)  # past its first claim: it is polling now
        deleted = run_hpo("study", "delete", "d", "--yes", env=env)
        assert deleted.returncode == 0, deleted.stderr
        code = waiter.wait(timeout=60)
        text = log.read_text()
        assert "Traceback" not in text and "KeyError" not in text, text
        assert code == 0, text  # as the in-trial case: the worker stopped as asked, not by a fault
        assert "study 'd' was deleted (noticed while trying to" in text and "; stopping" in text, text
        assert "done: ran 0 trials" in text, text
    finally:
        for proc in (holder, waiter):
            if proc is not None and proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
