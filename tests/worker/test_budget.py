"""The exact budget: one worker stopped by --max-trials, then 4 worker processes on one SQLite file."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import run_hpo, start_hpo, wait_all

pytestmark = pytest.mark.slow  # worker processes train whole studies


def test_max_trials_then_four_sqlite_workers_end_with_exactly_the_budget(tmp_path: Path) -> None:
    env = {"HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}", "HPO_ARTIFACTS": str(tmp_path / "artifacts")}
    assert run_hpo("study", "create", "b", "--space", "cnn", "--dataset", "synthetic", "--trials", "16",
                   "--epochs", "2", env=env).returncode == 0
    # --max-trials stops one worker early, leaving the rest of the budget WAITING (merged from a
    # test that trained a study of its own for this alone).
    assert run_hpo("worker", "b", "--max-trials", "1", env=env).returncode == 0
    study = optuna.load_study(study_name="b", storage=env["HPO_STORAGE"])
    assert [t.state for t in study.trials].count(TrialState.WAITING) == 15
    workers = [start_hpo("worker", "b", env=env, log=tmp_path / f"w{i}.log") for i in range(4)]
    assert wait_all(workers) == [0, 0, 0, 0]
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(4))
    assert "database is locked" not in logs and "Traceback" not in logs
    study = optuna.load_study(study_name="b", storage=env["HPO_STORAGE"])
    assert len(study.trials) == 16
    assert all(t.state in (TrialState.COMPLETE, TrialState.PRUNED) for t in study.trials)
    # No trial was claimed twice: each was trained by one worker with its own params.
    for trial in study.trials:
        assert trial.user_attrs["train_config"]["lr"] == trial.params["lr"]

