"""Two plain workers on one host share its cores without any HPO_* thread setting.

Real worker processes, real SQLite and PostgreSQL: the trials that ran at the same time on
different workers trained with threads summing to at most the cores, and when one worker
leaves (it is done, or it is SIGKILLed) the survivor trains its next trials on every core.
Each trial's `threads` attr is what it trained with.
"""

from __future__ import annotations

import os
import signal
import time
from datetime import datetime, timedelta
from collections.abc import Callable
from pathlib import Path

import optuna
import pytest
from optuna.trial import FrozenTrial, TrialState

from hpo.devices import available_cores
from tests.helpers import run_hpo, start_hpo, wait_all

pytestmark = pytest.mark.slow  # two real worker processes training on the shared cores

STEADY = str(Path(__file__).parent / "spaces" / "steady.py")
# The survivor re-counts at its next trial boundary; a trial it claimed this long after the
# other worker was gone was certainly claimed after that boundary.
AFTER = timedelta(seconds=1)


@pytest.fixture
def env(storage_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, str]:
    monkeypatch.delenv("HPO_NUM_THREADS")  # the tests' default: here nobody tells the workers
    monkeypatch.delenv("HPO_WORKERS_PER_HOST", raising=False)
    return {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts")}


def create(env: dict[str, str], name: str, trials: int) -> None:
    result = run_hpo("study", "create", name, "--space", STEADY, "--dataset", "fashion-mnist", "--trials", str(trials),
                     "--epochs", "2", "--train-subset", "1000", "--val-subset", "300", "--pruner", "none",
                     "--heartbeat-interval", "1", "--grace-period", "4", env=env)
    assert result.returncode == 0, result.stderr


def trained(env: dict[str, str], name: str) -> list[FrozenTrial]:
    """The trials that recorded their setup, and so their thread count."""
    trials = optuna.load_study(study_name=name, storage=env["HPO_STORAGE"]).get_trials(deepcopy=False)
    return [t for t in trials if "threads" in t.user_attrs]


def pid_of(trial: FrozenTrial) -> int:
    return int(trial.user_attrs["worker"].split(":")[1].split("/")[0])  # host:pid/token


def most_threads_at_once(trials: list[FrozenTrial], end: Callable[[FrozenTrial], datetime]) -> int:
    """The most threads that trained at one instant, summed over the workers."""
    events = sorted([(t.datetime_start, t.user_attrs["threads"]) for t in trials]
                    + [(end(t), -t.user_attrs["threads"]) for t in trials])
    most = running = 0
    for _, change in events:  # an end sorts before a start at the same instant
        running += change
        most = max(most, running)
    return most


def assert_shared(trials: list[FrozenTrial], cores: int, end: Callable[[FrozenTrial], datetime]) -> None:
    """Overlapping trials of different workers trained with at most ``cores`` threads in all."""
    assert all(1 <= t.user_attrs["threads"] <= cores for t in trials), [t.user_attrs["threads"] for t in trials]
    overlapping = [(a.number, b.number, a.user_attrs["threads"] + b.user_attrs["threads"])
                   for i, a in enumerate(trials) for b in trials[i + 1:]
                   if pid_of(a) != pid_of(b) and a.datetime_start < end(b) and b.datetime_start < end(a)]
    assert overlapping or cores == 1, "the workers never trained at the same time: nothing was shared"
    assert all(total <= cores for _, _, total in overlapping), (cores, overlapping)
    assert most_threads_at_once(trials, end) <= cores


def ended(trial: FrozenTrial) -> datetime:
    assert trial.datetime_complete is not None
    return trial.datetime_complete


def test_two_workers_share_the_cores_and_the_survivor_takes_them_all(env: dict[str, str], tmp_path: Path) -> None:
    cores = available_cores()
    # More trials than the stayer can train before the test has seen what it needs, so the
    # stayer is always training while the leaver trains its one trial: the overlap never hangs
    # on which of the two processes started faster. The test stops the stayer (SIGTERM, which
    # hands its trial back) once it has trained two trials alone.
    create(env, "share", trials=60)
    stayer = start_hpo("worker", "share", env=env, log=tmp_path / "stayer.log")
    deadline = time.monotonic() + 300
    while stayer.pid not in {pid_of(t) for t in trained(env, "share")}:  # registered and training
        assert time.monotonic() < deadline and stayer.poll() is None, "the stayer never trained"
        time.sleep(0.2)
    leaver = start_hpo("worker", "share", "--max-trials", "1", env=env, log=tmp_path / "leaver.log")
    assert leaver.wait(timeout=600) == 0
    left = datetime.now()

    def alone() -> list[FrozenTrial]:
        return [t for t in trained(env, "share") if t.datetime_start and t.datetime_start > left + AFTER]

    while sum(t.state == TrialState.COMPLETE for t in alone()) < 2:
        assert time.monotonic() < deadline and stayer.poll() is None, "the stayer never trained alone"
        time.sleep(0.2)
    os.killpg(stayer.pid, signal.SIGTERM)
    assert wait_all([stayer]) == [0]
    logs = (tmp_path / "leaver.log").read_text() + (tmp_path / "stayer.log").read_text()
    assert "Traceback" not in logs and "registry" not in logs, logs
    # The handed-back trial's retry waits with its attrs, untrained: not a trial that ran.
    trials = [t for t in trained(env, "share") if t.state.is_finished()]
    assert {pid_of(t) for t in trials} == {leaver.pid, stayer.pid}
    handed = [t for t in trials if t.state != TrialState.COMPLETE]  # at most the stayer's last one
    assert len(handed) <= 1 and all(t.state == TrialState.FAIL and pid_of(t) == stayer.pid
                                    and "handed back" in t.user_attrs["fail_reason"] for t in handed), \
        [(t.number, t.state.name, pid_of(t), t.user_attrs.get("fail_reason")) for t in handed]
    assert_shared(trials, cores, ended)
    after = alone()
    assert after and all(pid_of(t) == stayer.pid for t in after)
    assert [t.user_attrs["threads"] for t in after] == [cores] * len(after)


def test_a_sigkilled_workers_cores_go_to_the_survivor(env: dict[str, str], tmp_path: Path) -> None:
    cores = available_cores()
    create(env, "kill", trials=6)
    victim = start_hpo("worker", "kill", env=env, log=tmp_path / "victim.log")
    survivor = start_hpo("worker", "kill", env=env, log=tmp_path / "survivor.log")
    deadline = time.monotonic() + 300
    # Both at work: each has recorded a trial's setup (so both hold seats of the cores).
    while {pid_of(t) for t in trained(env, "kill")} != {victim.pid, survivor.pid}:
        assert time.monotonic() < deadline and survivor.poll() is None, "both workers never trained"
        time.sleep(0.2)
    os.killpg(victim.pid, signal.SIGKILL)
    victim.wait()
    killed = datetime.now()
    assert wait_all([survivor]) == [0]
    trials = trained(env, "kill")
    # The victim's trial stopped training when it died (it ended later, when it was recovered).
    assert_shared(trials, cores, lambda t: min(ended(t), killed) if pid_of(t) == victim.pid else ended(t))
    after = [t for t in trials if t.datetime_start > killed + AFTER]
    assert after and all(pid_of(t) == survivor.pid for t in after)
    assert [t.user_attrs["threads"] for t in after] == [cores] * len(after)
