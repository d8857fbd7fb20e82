"""Trials that go wrong: NaN losses and errors that would repeat forever."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import run_hpo

pytestmark = pytest.mark.slow  # worker processes train whole studies

SPACES = Path(__file__).parent / "spaces"


def test_nan_loss_prunes_with_the_reason_and_the_worker_goes_on(tmp_path: Path) -> None:
    env = {"HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}", "HPO_ARTIFACTS": str(tmp_path / "a")}
    assert run_hpo("study", "create", "nan", "--space", str(SPACES / "exploding.py"), "--dataset", "synthetic",
                   "--trials", "3", env=env).returncode == 0
    result = run_hpo("worker", "nan", env=env)
    assert result.returncode == 0, result.stderr
    trials = optuna.load_study(study_name="nan", storage=env["HPO_STORAGE"]).trials
    assert [t.state for t in trials] == [TrialState.PRUNED] * 3
    assert all("loss became" in t.user_attrs["fail_reason"] for t in trials)


def test_repeating_error_stops_the_worker_with_the_message(tmp_path: Path) -> None:
    env = {"HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}", "HPO_ARTIFACTS": str(tmp_path / "a")}
    assert run_hpo("study", "create", "bad", "--space", str(SPACES / "broken.py"), "--dataset", "synthetic",
                   "--trials", "10", env=env).returncode == 0
    result = run_hpo("worker", "bad", env=env)
    assert result.returncode == 1
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("error: 3 trials in a row failed") and "Invalid learning rate" in last
    trials = optuna.load_study(study_name="bad", storage=env["HPO_STORAGE"]).trials
    states = [t.state for t in trials]
    # Each failed once, with its reason; the rest of the budget is untouched for a fixed space.
    assert states.count(TrialState.FAIL) == 3 and states.count(TrialState.WAITING) == 7
    assert all("Invalid learning rate" in t.user_attrs["fail_reason"] for t in trials if t.state == TrialState.FAIL)
