"""`hpo report` draws train against validation loss of the best trials (reports 003 and 004).

The trials carry the diagnostics of real training runs (hpo.training.train on the synthetic
set), stored as user attrs the way the worker stores them, in a real SQLite study.
"""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
import torch

from hpo import data
from hpo.report import write_report
from hpo.report.data import collect
from hpo.report.plots import LOSS_CURVE_TRIALS, best_loss_curves
from hpo.training import LOSS_CURVES, TrainConfig, train
from tests.report.test_report import assert_png


@pytest.fixture(scope="module")
def runs() -> list[dict]:
    """Diagnostics and final accuracy of a few 2-epoch runs at different learning rates."""
    torch.set_num_threads(1)
    splits = data.make_splits(data.load("synthetic"), val_fraction=0.25, seed=0, train_subset=128)
    found = []
    for lr in (1e-1, 3e-2, 1e-2, 3e-3, 1e-3, 3e-4, 1e-4):
        result = train(TrainConfig(model={"arch": "cnn", "n_layers": 1, "channels": 4}, lr=lr, batch_size=32, epochs=2), splits)
        found.append({"lr": lr, "value": result.metrics["val_accuracy"], "attrs": result.diagnostics})
    return found


def make_study(storage: str, runs: list[dict], with_curves: bool) -> optuna.Study:
    study = optuna.create_study(study_name="losses", storage=storage, direction="maximize")
    for run in runs:
        trial = study.ask({"lr": optuna.distributions.FloatDistribution(1e-4, 1e-1, log=True)})
        for step, value in enumerate([run["value"]] * 2, start=1):
            trial.report(value, step)
        if with_curves:
            for key, value in run["attrs"].items():
                trial.set_user_attr(key, value)
        study.tell(trial, run["value"])
    return study


def test_the_best_trials_loss_curves_are_drawn(tmp_path: Path, runs: list[dict]) -> None:
    study = make_study(f"sqlite:///{tmp_path / 'hpo.db'}", runs, with_curves=True)
    drawn = best_loss_curves(study, collect(study))
    best_first = sorted(range(len(runs)), key=lambda i: -runs[i]["value"])
    assert [number for number, _curves in drawn] == best_first[:LOSS_CURVE_TRIALS]
    assert drawn[0][1] == runs[best_first[0]]["attrs"][LOSS_CURVES]
    report = write_report(study, tmp_path / "out", screenshot=False)
    assert "loss_curves" not in report.notes
    assert_png(tmp_path / "out" / "loss_curves.png")
    assert "Train vs validation loss" in (tmp_path / "out" / "report.html").read_text()


def test_studies_without_recorded_curves_say_why(tmp_path: Path, runs: list[dict]) -> None:
    study = make_study(f"sqlite:///{tmp_path / 'hpo.db'}", runs[:2], with_curves=False)
    report = write_report(study, tmp_path / "out", screenshot=False)
    assert "loss_curves" in report.notes["loss_curves"] and "rerun the study" in report.notes["loss_curves"]
    assert not (tmp_path / "out" / "loss_curves.png").exists()
