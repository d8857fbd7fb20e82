"""When the worker checkpoints a trial, and that finished trials leave no checkpoint behind."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hpo.trials import TrialKeys
from hpo.worker.checkpoints import CheckpointPolicy
from tests.helpers import run_hpo


def test_policy_checkpoints_until_it_knows_the_cost_then_by_ratio() -> None:
    policy = CheckpointPolicy(ratio=20)
    assert policy.due(0.0)  # cost unknown: measure it
    policy.cost = 0.01
    assert not policy.due(0.1)  # 0.1 s of training is not worth 0.01 s x 20
    assert policy.due(0.2)
    assert CheckpointPolicy(ratio=0).due(0.0)  # 0: every epoch


def _run_study(tmp_path: Path, ratio: str) -> tuple[list[optuna.trial.FrozenTrial], list[Path]]:
    env = {"HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}", "HPO_ARTIFACTS": str(tmp_path / "artifacts"),
           "HPO_SLEEP_SECONDS": "0", "HPO_CHECKPOINT_RATIO": ratio}
    created = run_hpo("study", "create", "c", "--space", "sleep", "--dataset", "synthetic", "--trials", "2",
                      "--epochs", "4", "--pruner", "none", env=env)
    assert created.returncode == 0, created.stderr
    worker = run_hpo("worker", "c", env=env)
    assert worker.returncode == 0, worker.stderr
    trials = optuna.load_study(study_name="c", storage=env["HPO_STORAGE"]).trials
    assert [t.state for t in trials] == [TrialState.COMPLETE] * 2
    return trials, sorted((tmp_path / "artifacts").rglob("*"))


@pytest.mark.slow
def test_every_epoch_but_the_last_and_none_left_after_completion(tmp_path: Path) -> None:
    trials, files = _run_study(tmp_path, ratio="0")
    # Checkpoints after epochs 1-3; after epoch 4 the final model is stored instead.
    assert [t.user_attrs[TrialKeys.RESUME_EPOCH] for t in trials] == [3, 3]
    # Only the two final models (and each trial's curves file and loss plot) remain: the last
    # checkpoints were deleted at completion.
    stored = {f.name for f in files if f.is_file()}
    kept = (TrialKeys.MODEL, TrialKeys.CURVES, TrialKeys.LOSS_PLOT)
    assert stored == {t.user_attrs[key] for t in trials for key in kept}
    assert not stored & {t.user_attrs[TrialKeys.RESUME] for t in trials}


@pytest.mark.slow
def test_epochs_much_shorter_than_a_checkpoint_skip_it(tmp_path: Path) -> None:
    trials, _files = _run_study(tmp_path, ratio="1000000")
    # The first checkpoint measures the cost; after that, 0-second epochs never earn one.
    assert trials[0].user_attrs[TrialKeys.RESUME_EPOCH] == 1
    assert TrialKeys.RESUME_EPOCH not in trials[1].user_attrs
