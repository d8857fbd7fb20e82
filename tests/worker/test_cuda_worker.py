"""A real `hpo worker` on a CUDA GPU: the auto space trained there (in the training loop's
default mixed precision), and an exported model that loads and evaluates on a CPU. Skipped
without a GPU (CI has none); scripts/device_check.sh runs it on one.

``HPO_TEST_DEVICE=cpu`` runs the same flow on the CPU, which checks the test's own logic.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import optuna
import pytest
import torch
from optuna.trial import TrialState

import hpo
from hpo.data.registry import entries
from tests.helpers import run_hpo, start_hpo, wait_all

DEVICE = os.environ.get("HPO_TEST_DEVICE", "cuda")
pytestmark = [pytest.mark.skipif(DEVICE.startswith("cuda") and not torch.cuda.is_available(),
                                 reason="needs a CUDA GPU"),
              pytest.mark.slow]  # a worker process trains a study


def test_a_worker_on_the_gpu_trains_the_auto_space_and_exports_a_model_that_loads_on_a_cpu(tmp_path: Path) -> None:
    if not next(e for e in entries() if e.name == "fashion-mnist").available():
        pytest.skip("Fashion-MNIST is not installed")
    storage = f"sqlite:///{tmp_path / 'gpu.db'}"
    env = {"HPO_STORAGE": storage, "HPO_ARTIFACTS": str(tmp_path / "artifacts"), "HPO_DEVICE": DEVICE}
    created = run_hpo("study", "create", "gpu", "--space", "auto", "--dataset", "fashion-mnist", "--trials", "3",
                      "--epochs", "2", "--pruner", "none", "--train-subset", "4000", "--val-subset", "1000", env=env)
    assert created.returncode == 0, created.stderr

    worker = start_hpo("worker", "gpu", env=env, log=tmp_path / "w.log", fork=False)  # CUDA in a fresh process
    log = tmp_path / "w.log"
    assert wait_all([worker], timeout=600) == [0], log.read_text()[-3000:]
    assert "Traceback" not in log.read_text()

    trials = optuna.load_study(study_name="gpu", storage=storage).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 3, [(t.number, t.user_attrs.get("fail_reason")) for t in trials]
    # Every trial trained on the device asked for, with the auto space's profile for it.
    assert {t.user_attrs["device"].split(":")[0] for t in trials} == {DEVICE.split(":")[0]}
    assert all(t.user_attrs["epochs_trained"] == 2 for t in trials)

    out = tmp_path / "best.pt"
    exported = run_hpo("export", "gpu", "--out", str(out), env=env)
    assert exported.returncode == 0, exported.stderr
    model = hpo.load_model(str(out))  # on this process's CPU, whatever trained it
    assert next(model.parameters()).device.type == "cpu"
    with torch.no_grad():
        assert model(torch.zeros(2, 1, 28, 28)).shape == (2, 10)

    evaluated = run_hpo("evaluate", str(out), "--split", "test", "--json", env={**env, "HPO_DEVICE": "cpu"})
    assert evaluated.returncode == 0, evaluated.stderr
    result = json.loads(evaluated.stdout)
    assert result["n"] == 10_000
    assert result["metrics"]["accuracy"] > 0.5  # 10 classes; 2 epochs on 4,000 images reach ~0.8
