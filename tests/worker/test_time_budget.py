"""A time budget shared by several workers, with promotions, a SIGKILL and a hand-back.

Real worker processes on SQLite and PostgreSQL. The study's clock starts with its first
trial; after the deadline no trial starts, running ones stop at their next epoch and keep
what they reached, and paused or handed-back trials end where they got.
"""

from __future__ import annotations

import datetime
import os
import signal
import time
from pathlib import Path

import optuna
from optuna.trial import TrialState

from hpo.trials.budget import logical_trials
from tests.helpers import run_hpo, start_hpo, wait_all

BUDGET_S = 25
EPOCH_S = 0.4  # the sleep space's epochs: an overshoot bound for the deadline


def _wait_for(condition, timeout: float = 120):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = condition()
        except Exception:  # the database is busy: look again
            found = None
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError("timed out")


def test_time_budget_with_promotions_a_kill_and_a_hand_back(storage_url: str, tmp_path: Path) -> None:
    env = {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts"),
           "HPO_SLEEP_SECONDS": str(EPOCH_S * 9), "HPO_CHECKPOINT_RATIO": "0"}
    created = run_hpo("study", "create", "tb", "--space", "sleep", "--dataset", "synthetic", "--time-budget",
                      f"{BUDGET_S}s", "--epochs", "9", "--pruner", "promote", "--heartbeat-interval", "1",
                      "--grace-period", "4", env=env)
    assert created.returncode == 0, created.stderr
    workers = [start_hpo("worker", "tb", env=env, log=tmp_path / f"w{i}.log") for i in range(3)]

    def mid_trial() -> list[optuna.trial.FrozenTrial]:
        trials = optuna.load_study(study_name="tb", storage=storage_url).get_trials(deepcopy=False)
        return [t for t in trials if t.state == TrialState.RUNNING and t.user_attrs.get("resume_epoch")]

    _wait_for(lambda: len(mid_trial()) >= 1)
    os.killpg(workers[0].pid, signal.SIGKILL)  # dies mid-trial: its trial goes stale, then is retried
    workers[0].wait()
    os.killpg(workers[1].pid, signal.SIGTERM)  # hands its trial back at the next epoch
    assert workers[1].wait(timeout=60) == 0
    workers.append(start_hpo("worker", "tb", env=env, log=tmp_path / "w3.log"))
    assert wait_all(workers[2:], timeout=300) == [0, 0]
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(4))
    assert "Traceback" not in logs

    study = optuna.load_study(study_name="tb", storage=storage_url)
    deadline = datetime.datetime.fromisoformat(study.user_attrs["deadline_utc"]).replace(tzinfo=None)
    trials = study.get_trials(deepcopy=False)
    to_utc = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None) - datetime.datetime.now()
    assert not [t.number for t in trials if t.state == TrialState.RUNNING]
    # No trial started after the deadline, and none ran on for more than one epoch past it.
    assert all(t.datetime_start + to_utc <= deadline for t in trials if t.datetime_start)
    ends = [t.datetime_complete + to_utc for t in trials if t.state == TrialState.COMPLETE]
    assert ends and max(ends) <= deadline + datetime.timedelta(seconds=EPOCH_S * 3 + 5)
    # Nothing that trained is left waiting; what was cut short kept its epochs.
    assert not [t.number for t in trials if t.state == TrialState.WAITING and t.intermediate_values]
    assert any(t.state == TrialState.FAIL and "handed back" in t.user_attrs.get("fail_reason", "") for t in trials)
    assert {t.state for t in logical_trials(trials)} <= {TrialState.COMPLETE, TrialState.PRUNED, TrialState.WAITING}
    # Promotion resumed paused trials from their checkpoints.
    assert any(t.user_attrs.get("resumed_from_epoch") for t in trials)

    shown = run_hpo("study", "show", "tb", env=env)
    assert "ended: the time budget (25s) ran out" in shown.stdout, shown.stdout
