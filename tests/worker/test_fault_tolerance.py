"""Fault tolerance with real worker processes and a real PostgreSQL server of the test's own.

SIGKILL, database outages and SIGTERM must never lose a trial, crash a worker, leave a trial
RUNNING, or change the budget: each logical trial ends exactly once.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hpo.trials.budget import logical_trials, superseded_numbers
from tests.conftest import PgCluster
from tests.helpers import run_hpo, start_hpo, wait_all

pytestmark = pytest.mark.slow  # worker processes killed, databases stopped and restarted

STEADY = str(Path(__file__).parent / "spaces" / "steady.py")


def create(storage: str, name: str, trials: int, epochs: int = 4, extra: tuple[str, ...] = ()) -> None:
    result = run_hpo("study", "create", name, "--space", STEADY, "--dataset", "fashion-mnist", "--trials", str(trials),
                     "--epochs", str(epochs), "--train-subset", "2000", "--val-subset", "500", "--pruner", "none",
                     "--heartbeat-interval", "1", "--grace-period", "4", *extra, env={"HPO_STORAGE": storage})
    assert result.returncode == 0, result.stderr


def trials_of(storage: str, name: str) -> list[optuna.trial.FrozenTrial]:
    return optuna.load_study(study_name=name, storage=storage).get_trials(deepcopy=False)


def wait_until(condition: Callable[[], object], timeout: float = 180, what: str = "condition") -> object:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = condition()
        except Exception:  # the database may be down or busy: look again
            value = None
        if value:
            return value
        time.sleep(0.3)
    raise AssertionError(f"timed out waiting for {what}")


def assert_exact_budget(storage: str, name: str, budget: int) -> list[optuna.trial.FrozenTrial]:
    trials = trials_of(storage, name)
    assert not [t.number for t in trials if t.state in (TrialState.RUNNING, TrialState.WAITING)]
    logical = logical_trials(trials)
    assert len(logical) == budget
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in logical), [(t.number, t.state, t.user_attrs.get("fail_reason")) for t in logical]
    # Every attempt that failed was superseded by exactly one retry: nothing lost, nothing doubled.
    failed = {t.number for t in trials if t.state == TrialState.FAIL}
    assert failed == superseded_numbers(trials)
    return trials


def retry_of(trials: list[optuna.trial.FrozenTrial], number: int) -> optuna.trial.FrozenTrial:
    return next(t for t in trials if (t.system_attrs.get("retry_history") or [None])[-1] == number)


@pytest.fixture
def env(pg_cluster: PgCluster, tmp_path: Path) -> dict[str, str]:
    return {"HPO_STORAGE": pg_cluster.url, "HPO_ARTIFACTS": str(tmp_path / "artifacts"), "HPO_NUM_THREADS": "1"}


def test_sigkill_mid_trial_resumes_and_keeps_budget(env: dict[str, str], tmp_path: Path) -> None:
    storage = env["HPO_STORAGE"]
    create(storage, "kill", trials=20)
    workers = [start_hpo("worker", "kill", env=env, log=tmp_path / f"w{i}.log") for i in range(3)]
    killed_trials = []
    for round_ in range(5):
        def victim() -> tuple[subprocess.Popen[str], int] | None:
            alive = {f"{os.uname().nodename}:{w.pid}": w for w in workers if w.poll() is None}
            for t in trials_of(storage, "kill"):
                host_pid = t.user_attrs.get("worker", "").split("/")[0]  # name: host:pid/token
                if t.state == TrialState.RUNNING and t.user_attrs.get("resume_epoch", 0) >= 1 and host_pid in alive:
                    return alive[host_pid], t.number
            return None

        proc, number = wait_until(victim, what=f"a trial mid-way (round {round_})")  # type: ignore[misc]
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
        # The trial may have finished between the read and the kill: only one still RUNNING died with it.
        if next(t for t in trials_of(storage, "kill") if t.number == number).state == TrialState.RUNNING:
            killed_trials.append(number)
        workers.append(start_hpo("worker", "kill", env=env, log=tmp_path / f"w{len(workers)}.log"))
    live = [w for w in workers if w.returncode is None]
    assert wait_all(live, timeout=600) == [0] * len(live)

    trials = assert_exact_budget(storage, "kill", 20)
    assert killed_trials  # five kills, each mid-way: at least one must have caught its trial running
    for number in killed_trials:
        killed = next(t for t in trials if t.number == number)
        assert killed.state == TrialState.FAIL
        retry = retry_of(trials, number)
        # The retry starts at the epoch after the killed attempt's last checkpoint.
        assert retry.user_attrs["resumed_from_epoch"] == killed.user_attrs["resume_epoch"]
        assert retry.state == TrialState.COMPLETE
        assert retry.params == killed.params
        assert sorted(retry.intermediate_values) == [1, 2, 3, 4]


def test_database_outages_are_survived(env: dict[str, str], pg_cluster: PgCluster, tmp_path: Path) -> None:
    storage = env["HPO_STORAGE"]
    # 20 trials of about 2 s among 3 workers: progress before each outage (a trial ends within
    # seconds of the database's return), and work left after the last. (40 took 96 s of CI.)
    create(storage, "outage", trials=20, epochs=3)
    workers = [start_hpo("worker", "outage", env=env, log=tmp_path / f"w{i}.log") for i in range(3)]

    def finished() -> int:
        return sum(t.state.is_finished() for t in trials_of(storage, "outage"))

    for seconds in (1, 10, 30):  # the longest outlasts the 4 s grace period many times
        before = finished()
        wait_until(lambda: finished() > before, what="progress before the outage")
        pg_cluster.stop()
        time.sleep(seconds)
        pg_cluster.start()
    assert wait_all(workers, timeout=900) == [0, 0, 0], [(tmp_path / f"w{i}.log").read_text()[-3000:] for i in range(3)]
    assert_exact_budget(storage, "outage", 20)


def test_create_and_workers_started_while_the_database_is_down_wait_for_it(
    env: dict[str, str], pg_cluster: PgCluster, tmp_path: Path
) -> None:
    pg_cluster.stop()
    env = {**env, "HPO_DB_RETRY_TIMEOUT": "300"}
    creator = start_hpo("study", "create", "late", "--space", STEADY, "--dataset", "fashion-mnist", "--trials", "4",
                        "--epochs", "2", "--train-subset", "2000", "--val-subset", "500", "--pruner", "none",
                        env=env, log=tmp_path / "create.log")
    workers = [start_hpo("worker", "late", "--wait-for-study", "300", env=env, log=tmp_path / f"w{i}.log")
               for i in range(2)]
    logs = [tmp_path / name for name in ("create.log", "w0.log", "w1.log")]
    # Each has met the closed port and is waiting (however slow its start-up on a busy machine).
    wait_until(lambda: all("waiting for PostgreSQL at 127.0.0.1:" in log.read_text() for log in logs), timeout=300,
               what="all three to wait for the database")
    time.sleep(3)
    assert creator.poll() is None and [w.poll() for w in workers] == [None, None], "they must wait, not exit"
    pg_cluster.start()
    assert creator.wait(timeout=120) == 0, (tmp_path / "create.log").read_text()
    assert wait_all(workers, timeout=600) == [0, 0]
    texts = [log.read_text() for log in logs]
    assert not any("Traceback" in text for text in texts), texts
    assert all(text.count("(connection refused); up to 5min (HPO_DB_RETRY_TIMEOUT)") == 1 for text in texts), texts
    assert_exact_budget(env["HPO_STORAGE"], "late", 4)


def test_sigterm_hands_the_trial_back(env: dict[str, str], tmp_path: Path) -> None:
    storage = env["HPO_STORAGE"]
    create(storage, "term", trials=4, epochs=10)
    first = start_hpo("worker", "term", env=env, log=tmp_path / "first.log")
    # Well before its last epoch: a SIGTERM during the last one lets the trial complete instead.
    running = wait_until(lambda: next((t for t in trials_of(storage, "term") if t.state == TrialState.RUNNING
                                       and 1 <= t.user_attrs.get("resume_epoch", 0) <= 6), None), what="a trial mid-way")
    os.killpg(first.pid, signal.SIGTERM)
    assert first.wait(timeout=30) == 0  # stops at the next epoch boundary, well within 30 s
    trials = trials_of(storage, "term")
    handed = next(t for t in trials if t.number == running.number)  # type: ignore[attr-defined]
    assert handed.state == TrialState.FAIL and "handed back" in handed.user_attrs["fail_reason"]

    second = start_hpo("worker", "term", env=env, log=tmp_path / "second.log")
    assert second.wait(timeout=600) == 0
    trials = assert_exact_budget(storage, "term", 4)
    retry = retry_of(trials, handed.number)
    assert retry.user_attrs["resumed_from_epoch"] == handed.user_attrs["resume_epoch"] >= 1


def test_stale_trials_are_reported_and_recovered(env: dict[str, str], tmp_path: Path) -> None:
    storage = env["HPO_STORAGE"]
    create(storage, "gone", trials=1, epochs=8)
    worker = start_hpo("worker", "gone", env=env, log=tmp_path / "w.log")
    wait_until(lambda: any(t.state == TrialState.RUNNING and t.user_attrs.get("resume_epoch", 0) >= 1
                           for t in trials_of(storage, "gone")), what="a trial mid-way")
    os.killpg(worker.pid, signal.SIGKILL)
    worker.wait()
    time.sleep(5)  # past the 4 s grace period
    shown = run_hpo("study", "show", "gone", env=env)
    assert "stale: trials 0" in shown.stdout, shown.stdout
    recovered = run_hpo("study", "recover", "gone", env=env)
    assert recovered.returncode == 0 and "re-queued stale trials 0" in recovered.stdout
    states = sorted(t.state.name for t in trials_of(storage, "gone"))
    assert states == ["FAIL", "WAITING"]
    assert run_hpo("worker", "gone", env=env).returncode == 0
    assert_exact_budget(storage, "gone", 1)
