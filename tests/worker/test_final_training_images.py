"""The final run trains on every training image, even when the search used a subset (issue 25).

A search ranks configurations on ``--train-subset`` images to be cheap; the final run trains the
model a user exports, so it trains on all of them unless ``--final-train-subset`` says how many.
The count is recorded on each trial (``train_images``), the stored model keeps the
normalization of the images it trained on, and a retrain trains on the same images again
(hpo.export.retrain.trial_splits, which the test reads rather than train again).
"""

from __future__ import annotations

import signal
from pathlib import Path

import optuna
import pytest
import torch

from hpo import artifacts, data
from hpo.config import StudyConfig
from hpo.export.retrain import trial_splits
from hpo.settings import Settings
from hpo.studies.create import create
from hpo.trials import TrialKeys, open_storage
from hpo.worker.loop import WorkerOptions, run_worker

SEARCH_IMAGES = 64


def _final_run_study(**overrides: object) -> StudyConfig:
    """The auto space's warm start trained for 10 seconds as the final run (``--final-share
    1``) of a study whose search trains on ``SEARCH_IMAGES`` images."""
    return StudyConfig(space="auto", dataset="synthetic", budget=None, epochs=2, pruner="none", warm_start=True,
                       time_budget_s=10.0, final_share=1.0, train_subset=SEARCH_IMAGES, **overrides)  # type: ignore[arg-type]


def _run(config: StudyConfig, tmp_path: Path) -> optuna.Study:
    """Create the study and run one worker on it to the end, in this process."""
    url = f"sqlite:///{tmp_path / 'hpo.db'}"
    create("fti", config, open_storage(url))
    # The test's own environment (tests/conftest.py): its own registry of the host's workers and
    # one thread, as every worker of the suite; Settings.from_env({}) shared the default registry
    # with whatever else ran on the machine.
    settings = Settings.from_env().replace(storage=url, device="cpu", artifacts=str(tmp_path / "artifacts"))
    handlers = {sig: signal.getsignal(sig) for sig in (signal.SIGTERM, signal.SIGINT)}
    try:
        run_worker(WorkerOptions("fti", settings))  # it installs signal handlers
    finally:
        for sig, handler in handlers.items():
            signal.signal(sig, handler)
    return optuna.load_study(study_name="fti", storage=url)


def _splits(config: StudyConfig, train_subset: int | None) -> data.Splits:
    return data.make_splits(data.load(config.dataset), val_fraction=config.val_fraction, seed=config.seed,
                            train_subset=train_subset)


def _retrained_on(study: optuna.Study, trial: optuna.trial.FrozenTrial) -> data.Splits:
    """The splits `hpo retrain` and `hpo export --retrain` train ``trial`` on again."""
    return trial_splits(study, trial, data.load("synthetic"), include_val=False, device=torch.device("cpu"))


@pytest.mark.slow  # a 10-second time budget
def test_the_final_run_trains_on_every_training_image_and_a_retrain_repeats_it(tmp_path: Path) -> None:
    config = _final_run_study()
    study = _run(config, tmp_path)
    (final,) = study.get_trials(deepcopy=False)
    assert final.state == optuna.trial.TrialState.COMPLETE and final.user_attrs.get(TrialKeys.FINAL_EPOCHS), final.user_attrs
    everything = _splits(config, None)
    assert len(everything.train) > SEARCH_IMAGES
    assert final.user_attrs[TrialKeys.TRAIN_IMAGES] == len(everything.train)
    assert final.user_attrs[TrialKeys.VAL_IMAGES] == len(everything.val)  # the search's validation images

    # The stored model is normalized as the images it trained on, not as the search's subset.
    store = artifacts.open_store(str(tmp_path / "artifacts"))
    meta = torch.load(artifacts.download_to_temp(store, final.user_attrs[TrialKeys.MODEL]), weights_only=False)["meta"]
    assert meta["normalization"] == everything.normalization.to_dict()
    assert meta["normalization"] != _splits(config, SEARCH_IMAGES).normalization.to_dict()

    # The warm start trains on mirror images, so the mirror view was offered at test time, and
    # chosen exactly when it scored higher on validation; the stored model says which.
    flipped = final.user_attrs[TrialKeys.VAL_ACCURACY_FLIP]
    assert final.user_attrs[TrialKeys.TEST_TIME] == ("flip" if flipped > final.value else "none")
    assert meta["test_time_augment"] == final.user_attrs[TrialKeys.TEST_TIME]

    assert len(_retrained_on(study, final).train) == len(everything.train)


@pytest.mark.slow  # a 10-second time budget
def test_final_train_subset_sets_the_final_runs_images(tmp_path: Path) -> None:
    images = 100
    study = _run(_final_run_study(final_train_subset=images), tmp_path)
    (final,) = study.get_trials(deepcopy=False)
    assert final.user_attrs[TrialKeys.TRAIN_IMAGES] == images
    assert len(_retrained_on(study, final).train) == images


def test_a_search_trial_trains_on_the_searchs_subset(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HPO_SLEEP_SECONDS", "0")
    config = StudyConfig(space="sleep", dataset="synthetic", budget=1, epochs=1, pruner="none",
                         train_subset=SEARCH_IMAGES)
    study = _run(config, tmp_path)
    (trial,) = study.get_trials(deepcopy=False)
    assert trial.user_attrs[TrialKeys.TRAIN_IMAGES] == SEARCH_IMAGES
    assert len(_retrained_on(study, trial).train) == SEARCH_IMAGES
