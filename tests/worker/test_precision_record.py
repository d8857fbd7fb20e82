"""HPO_PRECISION reaches a trial through Settings: its train_config keeps the override (so a
retrain trains in it too) and its setup records the precision that ran, and the validation
images its accuracy is a share of (what a tie with the warm start is judged by)."""

from __future__ import annotations

import signal
from pathlib import Path

import optuna
import pytest
import torch

from hpo.config import StudyConfig
from hpo import data
from hpo.export.retrain import trial_train_config
from hpo.settings import Settings
from hpo.studies.create import create
from hpo.trials import TrialKeys, open_storage
from hpo.training.precision import choose
from hpo.worker.loop import WorkerOptions, run_worker


CONFIG = StudyConfig(space="sleep", dataset="synthetic", budget=1, epochs=2, pruner="none")


def _run(url: str, tmp_path: Path, env: dict[str, str]) -> list[optuna.trial.FrozenTrial]:
    name = f"s{len(env)}"
    create(name, CONFIG, open_storage(url))
    settings = Settings.from_env(env).replace(storage=url, device="cpu", artifacts=str(tmp_path / "artifacts"))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        run_worker(WorkerOptions(name, settings))  # in this process: it installs signal handlers
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return optuna.load_study(study_name=name, storage=url).trials


def validation_images(config: StudyConfig) -> int:
    """The worker's validation split of ``config``'s data set, counted."""
    splits = data.make_splits(data.load(config.dataset), val_fraction=config.val_fraction, seed=config.seed)
    return len(splits.val)


def test_the_precision_is_recorded_and_retrained_in(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_SLEEP_SECONDS", "0")
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    (chosen,) = _run(url, tmp_path, {})
    default = choose(torch.device("cpu")).name  # fp32, or bf16 on a CPU with bf16 hardware
    assert chosen.user_attrs[TrialKeys.PRECISION] == default
    assert chosen.user_attrs[TrialKeys.VAL_IMAGES] == validation_images(CONFIG)
    assert trial_train_config(chosen).precision is None  # a retrain chooses by its own device
    other = "fp32" if default == "bf16" else "bf16"
    (forced,) = _run(url, tmp_path, {"HPO_PRECISION": other})
    assert forced.user_attrs[TrialKeys.PRECISION] == other
    assert trial_train_config(forced).precision == other
