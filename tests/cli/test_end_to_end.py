"""create -> 2 worker processes -> exact budget -> show (hpo and Optuna's CLI) -> export -> load_model -> evaluate.

Runs on both storages, with real Fashion-MNIST (small subsets) and real `hpo` processes: real
interpreters, as a user starts them, not the test launcher's forks (tests/launcher.py).
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import hpo
from tests.helpers import run_hpo, start_hpo, wait_all


@pytest.fixture
def fashion_mnist_available() -> None:
    from hpo.data.registry import entries

    if not next(e for e in entries() if e.name == "fashion-mnist").available():
        from tests.conftest import missing

        missing("Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")


# The fast tier's one worker end-to-end test is the SQLite run; the PostgreSQL run is `slow`.
@pytest.mark.parametrize("storage_url", ["sqlite", pytest.param("postgres", marks=pytest.mark.slow)], indirect=True)
def test_create_work_show_export_evaluate(storage_url: str, tmp_path: Path, fashion_mnist_available: None) -> None:
    env = {"HPO_STORAGE": storage_url, "HPO_ARTIFACTS": str(tmp_path / "artifacts")}
    created = run_hpo("study", "create", "e2e", "--space", "cnn", "--dataset", "fashion-mnist", "--trials", "5",
                      "--epochs", "2", "--train-subset", "1500", "--val-subset", "500", env=env, fork=False)
    assert created.returncode == 0, created.stderr

    workers = [start_hpo("worker", "e2e", env=env, log=tmp_path / f"worker{i}.log", fork=False) for i in range(2)]
    assert wait_all(workers, timeout=600) == [0, 0], [(tmp_path / f"worker{i}.log").read_text()[-2000:] for i in range(2)]

    shown = run_hpo("study", "show", "e2e", "--json", env=env, fork=False)
    assert shown.returncode == 0, shown.stderr
    info = json.loads(shown.stdout)
    progress = info["progress"]
    assert progress["finished"] == 5 and progress["running"] == 0 and progress["waiting"] == 0
    assert progress["complete"] >= 1
    best = info["best"][0]
    assert 0.0 <= best["metrics"]["val_accuracy"] <= 1.0
    assert {"val_f1", "val_mcc", "val_roc_auc", "val_precision", "val_recall"} <= set(best["metrics"])
    # Both workers took part: neither sat idle while the other did everything.
    import optuna

    study = optuna.load_study(study_name="e2e", storage=storage_url)
    assert len(study.trials) == 5  # exact: no overshoot, no duplicate
    assert len({t.user_attrs["worker"] for t in study.trials if "worker" in t.user_attrs}) == 2

    table = run_hpo("study", "show", "e2e", env=env, fork=False)
    assert "best trial" in table.stdout and "val_accuracy" in table.stdout

    # Optuna's own CLI reads the study hpo made (merged from a test that trained a study of
    # its own for this alone).
    optuna_cli = [str(Path(sys.executable).with_name("optuna"))]  # the console script pip installs
    studies = subprocess.run([*optuna_cli, "studies", "--storage", storage_url, "-f", "json"], capture_output=True, text=True)
    assert studies.returncode == 0, studies.stderr
    assert json.loads(studies.stdout)[0]["name"] == "e2e"
    best_trial = subprocess.run([*optuna_cli, "best-trial", "--study-name", "e2e", "--storage", storage_url, "-f", "json"],
                                capture_output=True, text=True)
    assert best_trial.returncode == 0, best_trial.stderr
    assert json.loads(best_trial.stdout)["state"] == "COMPLETE"

    exported = run_hpo("export", "e2e", "--out", str(tmp_path / "best.pt"), env=env, fork=False)
    assert exported.returncode == 0, exported.stderr

    model = hpo.load_model(str(tmp_path / "best.pt"))
    assert model.hpo_meta["dataset"] == "fashion-mnist"
    assert model.hpo_meta["classes"][0] == "T-shirt/top"
    assert model(torch.zeros(3, 1, 28, 28)).shape == (3, 10)
    raw = torch.load(tmp_path / "best.pt", weights_only=True)
    assert raw["meta"]["trial"] == best["number"] and len(raw["sha256"]) == 64

    evaluated = run_hpo("evaluate", str(tmp_path / "best.pt"), "--split", "test", "--json", env=env, fork=False)
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    assert result["n"] == 10_000 and 0.0 <= result["metrics"]["accuracy"] <= 1.0
    assert sum(map(sum, result["confusion_matrix"])) == 10_000

