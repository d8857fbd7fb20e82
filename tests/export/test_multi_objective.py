"""A 4-trial accuracy x latency study: ONNX Runtime latency from the worker, a Pareto set, export."""

from __future__ import annotations

import json
from pathlib import Path

import onnx
import optuna
import pytest
from click.testing import CliRunner

from hpo.checkpoint import load_checkpoint
from hpo.cli import main
from tests.export.conftest import TINY_SPACE, hpo_ok, study_env


@pytest.mark.slow
def test_accuracy_latency_study_gives_a_pareto_set_that_export_accepts(tmp_path: Path) -> None:
    env = study_env(tmp_path)
    hpo_ok("study", "create", "front", "--space", TINY_SPACE, "--dataset", "digits", "--trials", "4", "--epochs", "2",
           "--objectives", "accuracy,latency", "--pruner", "none", env=env)
    hpo_ok("worker", "front", env=env)

    study = optuna.load_study(study_name="front", storage=env["HPO_STORAGE"])
    assert [d.name for d in study.directions] == ["MAXIMIZE", "MINIMIZE"]
    complete = study.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(complete) == 4
    for trial in complete:
        accuracy, latency_ms = trial.values
        assert accuracy == trial.user_attrs["val_accuracy"]
        assert 0 < latency_ms < 1000  # a real ONNX Runtime measurement in milliseconds

    info = json.loads(hpo_ok("study", "show", "front", "--json", env=env))
    pareto = sorted(t["number"] for t in info["best"])
    assert pareto == sorted(t.number for t in study.best_trials) and pareto
    shown = CliRunner().invoke(main, ["study", "show", "front"], env=env).stdout
    assert all(f"trial {n}  values " in shown for n in pareto), shown  # one trial may dominate all others

    # Without --trial, export names the Pareto trials to pick from.
    ambiguous = CliRunner().invoke(main, ["export", "front", "--out", str(tmp_path / "x.pt")], env=env)
    assert ambiguous.exit_code == 2 and "multi-objective" in ambiguous.stderr
    assert all(str(n) in ambiguous.stderr for n in pareto)

    chosen = pareto[-1]
    out, onnx_file = tmp_path / "pareto.pt", tmp_path / "pareto.onnx"
    hpo_ok("export", "front", "--trial", str(chosen), "--out", str(out), "--onnx", str(onnx_file), "--latency-repeats", "5", env=env)
    meta = load_checkpoint(out)["meta"]
    assert meta["trial"] == chosen and meta["values"] == study.trials[chosen].values
    props = {p.key: json.loads(p.value) for p in onnx.load_model(str(onnx_file)).metadata_props}
    assert props["hpo.meta"]["trial"] == chosen
