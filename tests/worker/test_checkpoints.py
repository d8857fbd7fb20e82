"""When the worker checkpoints a trial, and that finished trials leave no checkpoint behind."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState

from hpo.trials import TrialKeys
from hpo.worker.checkpoints import CheckpointPolicy
from tests.helpers import run_hpo, start_hpo


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


@pytest.mark.slow
def test_a_truncated_resume_checkpoint_is_one_warning_and_the_retry_starts_over(tmp_path: Path) -> None:
    """Issue 27: the warning named a temporary file and said "re-export it", and re-reporting
    the epochs already in the curve added six multi-line Optuna warnings."""
    env = {"HPO_STORAGE": f"sqlite:///{tmp_path / 'hpo.db'}", "HPO_ARTIFACTS": str(tmp_path / "artifacts"),
           "HPO_SLEEP_SECONDS": "8", "HPO_CHECKPOINT_RATIO": "0"}
    created = run_hpo("study", "create", "c", "--space", "sleep", "--dataset", "synthetic", "--trials", "1",
                      "--epochs", "4", "--pruner", "none", env=env)
    assert created.returncode == 0, created.stderr
    # A real first attempt, stopped by SIGTERM after an epoch: it hands the trial back with a checkpoint.
    log = tmp_path / "first.log"
    first = start_hpo("worker", "c", env=env, log=log)
    deadline = time.monotonic() + 180
    while "epoch 1/4" not in log.read_text():
        assert first.poll() is None and time.monotonic() < deadline, log.read_text()
        time.sleep(0.2)
    first.send_signal(signal.SIGTERM)
    assert first.wait(timeout=120) == 0, log.read_text()
    handed_back = optuna.load_study(study_name="c", storage=env["HPO_STORAGE"]).trials
    assert [t.state for t in handed_back] == [TrialState.FAIL, TrialState.WAITING], log.read_text()
    artifact_id = handed_back[1].user_attrs[TrialKeys.RESUME]
    checkpoint = tmp_path / "artifacts" / artifact_id
    checkpoint.write_bytes(checkpoint.read_bytes()[: checkpoint.stat().st_size // 2])  # cut off mid-write

    resumed = run_hpo("worker", "c", env={**env, "HPO_SLEEP_SECONDS": "0"})
    assert resumed.returncode == 0, resumed.stderr
    out = resumed.stdout + resumed.stderr
    warnings = [line for line in out.splitlines() if "resume checkpoint" in line]
    assert len(warnings) == 1, out
    assert f"(artifact {artifact_id}) is a truncated or damaged PyTorch file; training it from epoch 1" in warnings[0]
    assert "export" not in warnings[0] and "/tmp" not in warnings[0], warnings[0]
    # Nothing else: no traceback, no Optuna warning for each epoch of the curve reported again.
    assert "Traceback" not in out and "already reported" not in out and "resumes after epoch" not in out, out
    retry = optuna.load_study(study_name="c", storage=env["HPO_STORAGE"]).trials[1]
    assert retry.state == TrialState.COMPLETE
    assert retry.user_attrs["epochs_trained"] == 4 and TrialKeys.RESUMED_FROM not in retry.user_attrs
