"""A seeded grid (`hpo study create --seeds N`): each cell runs N times, paired seed by seed, and
`hpo report` shows every configuration's mean with its 95 % interval. Real workers, tiny data."""

from __future__ import annotations

import json
from pathlib import Path

import optuna

from hpo.trials import TrialKeys
from tests.helpers import run_hpo

SPACE = str(Path(__file__).parent / "spaces" / "seeded_mlp.py")


def test_a_seeded_grid_pairs_seeds_across_cells_and_the_report_shows_means_with_intervals(tmp_path: Path) -> None:
    created = run_hpo("study", "create", "s", "--space", SPACE, "--dataset", "synthetic", "--sampler", "grid",
                      "--seeds", "3", "--epochs", "2", "--pruner", "none")
    assert created.returncode == 0, created.stderr
    assert "6 trials" in created.stdout  # 2 cells x 3 seeds
    for _ in range(2):  # two workers one after another: the second finds the budget spent
        worked = run_hpo("worker", "s")
        assert worked.returncode == 0, worked.stderr

    trials = optuna.load_study(study_name="s", storage="sqlite:///hpo.db").get_trials()
    assert [t.state.name for t in trials] == ["COMPLETE"] * 6
    seeds = {(t.params["width"], t.user_attrs[TrialKeys.REPLICATE]): t.user_attrs["seed"] for t in trials}
    assert sorted(seeds) == [(w, r) for w in (4, 32) for r in range(3)]
    for r in range(3):  # paired: the k-th repeat of both cells trains with one seed ...
        assert seeds[(4, r)] == seeds[(32, r)]
    assert len({seeds[(4, r)] for r in range(3)}) == 3  # ... and the repeats differ

    reported = run_hpo("report", "s", "--out", str(tmp_path / "out"), "--no-screenshot")
    assert reported.returncode == 0, reported.stderr
    repeats = json.loads((tmp_path / "out" / "report.json").read_text())["repeats"]
    assert sorted(r["params"]["width"] for r in repeats) == [4, 32]
    for r in repeats:
        assert r["n"] == 3 and sorted(r["seeds"]) == [0, 1, 2]
        values = [t.value for t in trials if t.params["width"] == r["params"]["width"]]
        assert abs(r["mean"] - sum(values) / 3) < 1e-9
        assert r["low"] <= r["mean"] <= r["high"]
    readme = (tmp_path / "out" / "README.md").read_text()
    section = readme.split("## Configurations over seeds")[1].split("\n## ")[0]
    rows = [line for line in section.splitlines() if line.startswith("| 4 ") or line.startswith("| 32 ")]
    assert len(rows) == 2 and all("| 3 |" in row and " to " in row for row in rows), section


def test_seeds_need_a_grid_and_a_budget_that_is_a_multiple_of_them() -> None:
    tpe = run_hpo("study", "create", "t", "--space", SPACE, "--dataset", "synthetic", "--trials", "4", "--seeds", "2")
    assert tpe.returncode == 2
    assert tpe.stderr.strip() == ("error: --seeds 2 repeats a grid's cells, and --sampler is 'tpe'; "
                                  "pass --sampler grid, or --seeds 1")
    odd = run_hpo("study", "create", "g", "--space", SPACE, "--dataset", "synthetic", "--sampler", "grid",
                  "--trials", "5", "--seeds", "3")
    assert odd.returncode == 2
    assert "with --seeds 3 it must be a multiple of 3" in odd.stderr
