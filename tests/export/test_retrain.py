"""Reproducibility: trials record seed, versions and device; `hpo retrain` repeats a trial's score;
`hpo export --retrain` reports the test number beside the validation score."""

from __future__ import annotations

import json
from pathlib import Path

import optuna
import torch
from click.testing import CliRunner

import hpo
from hpo.checkpoint import load_checkpoint
from hpo.cli import main
from hpo.data import load
from hpo.export.model_io import RETRAINED, SEARCH_WEIGHTS
from tests.export.conftest import Exported
from tests.helpers import run_hpo


def _completed(exported: Exported) -> list[optuna.trial.FrozenTrial]:
    study = optuna.load_study(study_name=exported.study, storage=exported.env["HPO_STORAGE"])
    return study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))


def test_every_trial_records_seed_versions_device_and_config(exported: Exported) -> None:
    trials = _completed(exported)
    assert len(trials) == 3
    for trial in trials:
        attrs = trial.user_attrs
        assert isinstance(attrs["seed"], int) and attrs["train_config"]["seed"] == attrs["seed"]
        assert attrs["device"] == "cpu"
        assert {"torch", "optuna", "python", "hpo"} <= set(attrs["versions"])
        assert attrs["versions"]["torch"] == torch.__version__
    assert len({t.user_attrs["seed"] for t in trials}) == 3  # each trial its own seed


def test_retrain_reproduces_the_trial_validation_accuracy(exported: Exported) -> None:
    # The worst trial: the score most sensitive to any difference in the run.
    trial = min(_completed(exported), key=lambda t: t.user_attrs["val_accuracy"])
    result = run_hpo("retrain", exported.study, "--trial", str(trial.number), "--json", env=exported.env)
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["recorded_val_accuracy"] == trial.user_attrs["val_accuracy"]
    assert abs(report["reproduced_val_accuracy"] - trial.user_attrs["val_accuracy"]) * 100 <= 0.5
    assert report["reproduced"] is True and report["recorded_on"]["seed"] == trial.user_attrs["seed"]


def test_export_retrain_trains_on_train_val_and_reports_test_beside_validation(exported: Exported, tmp_path: Path) -> None:
    out = tmp_path / "final.pt"
    result = run_hpo("export", exported.study, "--out", str(out), "--retrain", env=exported.env)
    assert result.returncode == 0, result.stderr
    row = next(line for line in result.stdout.splitlines() if line.startswith("accuracy"))
    assert "validation (search)" in result.stdout and "test (retrained, evaluated once)" in result.stdout
    val_shown, test_shown = map(float, row.split()[1:3])

    meta = load_checkpoint(out)["meta"]
    assert meta["weights"] == RETRAINED
    best = max(_completed(exported), key=lambda t: t.user_attrs["val_accuracy"])
    assert meta["trial"] == best.number
    assert val_shown == float(f"{best.user_attrs['val_accuracy']:.4g}")
    assert test_shown == float(f"{meta['test_metrics']['accuracy']:.4g}")
    # The search held 10 % of the training split out for validation; the retrain uses all of it.
    n_train = len(load("digits").train_y)
    assert meta["train_images"] == n_train and f"retrained on train+val ({n_train} images" in result.stdout
    assert meta["test_metrics"]["accuracy"] > 0.5

    # The written model is the retrained one: evaluating it gives the reported test number.
    evaluated = CliRunner().invoke(main, ["evaluate", str(out), "--json"], env=exported.env)
    assert json.loads(evaluated.stdout)["metrics"]["accuracy"] == meta["test_metrics"]["accuracy"]
    refused = CliRunner().invoke(main, ["evaluate", str(out), "--split", "val"], env=exported.env)
    assert refused.exit_code == 2 and "not held out" in refused.stderr
    assert hpo.load_model(str(out)).hpo_meta["weights"] == RETRAINED
    assert load_checkpoint(exported.pt)["meta"]["weights"] == SEARCH_WEIGHTS
