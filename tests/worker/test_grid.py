"""A grid search on several workers runs each cell exactly once and reports success."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from tests.helpers import run_hpo, start_hpo, wait_all

GRID = str(Path(__file__).parent / "spaces" / "grid.py")


@pytest.mark.slow
def test_three_workers_run_every_cell_exactly_once(storage_url: str, tmp_path: Path) -> None:
    env = {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts")}
    created = run_hpo("study", "create", "g", "--space", GRID, "--dataset", "synthetic", "--sampler", "grid",
                      "--epochs", "2", "--pruner", "none", env=env)
    assert created.returncode == 0, created.stderr
    assert "18 trials" in created.stdout  # without --trials, the whole grid
    workers = [start_hpo("worker", "g", env=env, log=tmp_path / f"w{i}.log") for i in range(3)]
    assert wait_all(workers) == [0, 0, 0]
    logs = "".join((tmp_path / f"w{i}.log").read_text() for i in range(3))
    assert "failed" not in logs and "Traceback" not in logs
    trials = optuna.load_study(study_name="g", storage=storage_url).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 18
    cells = {(t.params["depth"], t.params["kind"]) for t in trials}
    assert cells == {(d, k) for d in range(1, 7) for k in "uvw"}


def test_a_budget_larger_than_the_grid_is_refused_at_create() -> None:
    created = run_hpo("study", "create", "g", "--space", GRID, "--dataset", "synthetic", "--sampler", "grid",
                      "--trials", "19")
    assert created.returncode == 2
    assert created.stderr.strip() == ("error: --trials is 19, but the grid of space 'grid-test' has 18 cells; "
                                      "pass --trials 18 (or fewer, for a random subset)")
