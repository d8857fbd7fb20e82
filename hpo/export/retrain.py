"""Training a trial's exact configuration again: to reproduce it, or on train+val for the final model.

The trial's ``train_config`` user attr holds the exact run (seed included), and the study config
fixes the data split, so a CPU retrain repeats the trial's validation score.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import Any

import optuna
import torch
from optuna.trial import FrozenTrial

from hpo import data
from hpo.checkpoint import versions
from hpo.config import StudyConfig
from hpo.data.base import ImageData
from hpo.data.splits import Splits, test_split
from hpo.errors import HpoError
from hpo.export.model_io import RETRAINED
from hpo.models.test_time import NONE, with_test_time
from hpo.training import TrainConfig, TrainResult, train
from hpo.training.loop import predict_logits
from hpo.training.metrics import classification_metrics
from hpo.trials import TrialKeys

@dataclass(frozen=True)
class Retrained:
    config: TrainConfig
    splits: Splits
    result: TrainResult
    images: ImageData  # the decoded data set, for a test evaluation without decoding it again
    # hpo.models.test_time's mode the trial chose on validation: a retrain on train+val has no
    # validation images left to choose it again.
    test_time: str = NONE


def trial_train_config(trial: FrozenTrial) -> TrainConfig:
    recorded = trial.user_attrs.get(TrialKeys.TRAIN_CONFIG)
    if not recorded:
        raise HpoError(f"trial {trial.number} has no {TrialKeys.TRAIN_CONFIG!r} user attr, so its run cannot be repeated; "
                       "it was made by an older hpo: export its stored model instead")
    return TrainConfig.from_dict(recorded)


def trial_splits(study: optuna.Study, trial: FrozenTrial, images: ImageData, *, include_val: bool,
                 device: torch.device) -> Splits:
    """The study's split of ``images`` with the training images ``trial`` trained on (plus the
    validation images if asked).

    A final run trains on all of them even when the search used --train-subset (or on
    --final-train-subset); trials recorded before the count was kept trained on the study's.
    """
    cfg = StudyConfig.of(study)
    return data.make_splits(
        images, val_fraction=cfg.val_fraction, seed=cfg.seed, device=device,
        train_subset=trial.user_attrs.get(TrialKeys.TRAIN_IMAGES, cfg.train_subset),
        val_subset=cfg.val_subset, include_val_in_train=include_val,
    )


def retrain(study: optuna.Study, trial: FrozenTrial, *, include_val: bool, device: torch.device) -> Retrained:
    """Train ``trial``'s recorded configuration on the study's split (plus validation if asked)."""
    images = data.load(StudyConfig.of(study).dataset)
    splits = trial_splits(study, trial, images, include_val=include_val, device=device)
    config = trial_train_config(trial)
    return Retrained(config, splits, train(config, splits, device), images,
                     str(trial.user_attrs.get(TrialKeys.TEST_TIME, NONE)))


def search_metrics(trial: FrozenTrial) -> dict[str, Any]:
    """The validation metrics the trial recorded during the search."""
    return {k: v for k, v in trial.user_attrs.items() if k.startswith("val_")}


def score_on_test(retrained: Retrained) -> dict[str, float | None]:
    """The one evaluation on the test split, with the normalization the model was trained with."""
    test = test_split(retrained.images, retrained.splits.normalization, retrained.splits.train.x.device)
    model = with_test_time(retrained.result.model, retrained.test_time)
    return classification_metrics(predict_logits(model, test.x), test.y)


def retrained_meta(study: optuna.Study, trial: FrozenTrial, retrained: Retrained, test: dict[str, Any], device: torch.device) -> dict[str, Any]:
    """The checkpoint description of a model retrained on train+val."""
    splits = retrained.splits
    return {
        "model": retrained.config.model,
        "train_config": retrained.config.to_dict(),
        "params": trial.params,
        "dataset": splits.dataset,
        "input_shape": list(splits.input_shape),
        "num_classes": splits.num_classes,
        "classes": list(splits.classes),
        "normalization": splits.normalization.to_dict(),
        "weights": RETRAINED,
        "train_images": len(splits.train),
        "metrics": search_metrics(trial),  # the search's validation score, for comparison
        "test_metrics": test,
        "history": [{"epoch": h["epoch"], "train_loss": h["train_loss"]} for h in retrained.result.history],
        "versions": versions(),
        "device": str(device),
        "study": study.study_name,
        "trial": trial.number,
        "values": trial.values,
        "study_config": StudyConfig.of(study).to_user_attrs(),
        "test_time_augment": retrained.test_time,
        "exported_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    }


@dataclass(frozen=True)
class Reproduction:
    trial: int
    recorded: float  # the trial's validation accuracy, from the search
    reproduced: float  # the same run, repeated here

    @property
    def diff_points(self) -> float:
        return abs(self.reproduced - self.recorded) * 100.0


def reproduce(study: optuna.Study, trial: FrozenTrial, device: torch.device) -> tuple[Reproduction, Retrained]:
    """Repeat ``trial``'s run on the study's train split and compare validation accuracy."""
    recorded = trial.user_attrs.get("val_accuracy")
    if recorded is None:
        raise HpoError(f"trial {trial.number} recorded no 'val_accuracy' user attr, so there is nothing to reproduce")
    retrained = retrain(study, trial, include_val=False, device=device)
    reproduced = retrained.result.metrics.get("val_accuracy")
    return Reproduction(trial.number, float(recorded), float(reproduced or 0.0)), retrained
