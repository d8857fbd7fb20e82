"""Each reference space runs a 3-trial study end to end: real `hpo study create` and `hpo worker`.

All studies share one SQLite file and run side by side (creates in parallel, then workers in
parallel): most of each process's time is importing torch, which overlaps well.
"""

from __future__ import annotations

from typing import Any

import optuna
import pytest

from hpo.spaces import get_space
from tests.helpers import start_hpo, wait_all

pytestmark = pytest.mark.slow  # one module fixture trains them all

# Study -> (space, extra `study create` options). activation_optimizer needs 3 epochs
# (sgd+adam+radam trains one per optimizer); it also runs under the grid sampler it promises.
REFERENCE: dict[str, tuple[str, list[str]]] = {
    "activation_optimizer": ("activation_optimizer", ["--epochs", "3"]),
    "activation_optimizer_grid": ("activation_optimizer", ["--epochs", "3", "--sampler", "grid"]),
    "architecture": ("architecture", ["--epochs", "1"]),
    "resnet_optimizer": ("resnet_optimizer", ["--epochs", "1", "--objectives", "f1"]),
    "regularization": ("regularization", ["--epochs", "1"]),
    "cnn": ("cnn", ["--epochs", "1"]),
    "auto": ("auto", ["--epochs", "1"]),
}
# hpo's pre-created budget slots carry an empty ``fixed_params``, which Optuna's GridSampler reads
# as "enqueued with every parameter given", so it assigns no grid point and every trial fails.
# The fix belongs in hpo/studies/samplers.py (a GridSampler that ignores the empty marker).
TINY = ["--trials", "3", "--pruner", "none", "--train-subset", "96", "--val-subset", "48", "--batch-size", "32"]


@pytest.fixture(scope="module")
def studies(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = tmp_path_factory.mktemp("reference")
    env = {"HPO_STORAGE": f"sqlite:///{root / 'hpo.db'}", "HPO_ARTIFACTS": str(root / "artifacts"), "HPO_NUM_THREADS": "1"}
    logs = {name: root / f"{name}.log" for name in REFERENCE}
    names = list(REFERENCE)

    def create(name: str) -> Any:
        space, options = REFERENCE[name]
        return start_hpo("study", "create", name, "--space", space, "--dataset", "synthetic", *TINY, *options,
                         env=env, log=root / f"create-{name}.log")

    # SQLite creates its schema on first use: one create first, so the others do not race on it.
    create_codes = wait_all([create(names[0])], timeout=300)
    create_codes += wait_all([create(name) for name in names[1:]], timeout=300)
    workers = [start_hpo("worker", name, env=env, log=logs[name]) for name in names]
    worker_codes = wait_all(workers, timeout=900)
    return {"storage": env["HPO_STORAGE"], "root": root, "logs": logs,
            "create": dict(zip(names, create_codes, strict=True)), "worker": dict(zip(names, worker_codes, strict=True))}


@pytest.mark.parametrize("name", REFERENCE)
def test_reference_space_runs_three_trials(name: str, studies: dict[str, Any]) -> None:
    log = studies["logs"][name].read_text()[-3000:] if studies["logs"][name].exists() else ""
    assert studies["create"][name] == 0, (studies["root"] / f"create-{name}.log").read_text()
    assert studies["worker"][name] == 0, log
    study = optuna.load_study(study_name=name, storage=studies["storage"])
    trials = study.get_trials(deepcopy=False)
    assert len(trials) == 3, log
    assert [t.state for t in trials] == [optuna.trial.TrialState.COMPLETE] * 3, log
    space = get_space(REFERENCE[name][0])
    for trial in trials:
        assert space.validate(trial.params) == trial.params
        assert trial.user_attrs["train_config"]["model"] == space.build(trial.params, 1).model
        assert 0.0 <= trial.value <= 1.0
        assert trial.user_attrs.get("model_artifact_id")
    if name.endswith("_grid"):  # the grid sampler drew distinct grid points
        assert len({tuple(sorted(t.params.items())) for t in trials}) == 3
