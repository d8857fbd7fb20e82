"""The pace probe: a few batches measure an epoch, and a wider model measures slower."""

from __future__ import annotations

import math

import pytest

from hpo import data
from hpo.training import TrainConfig
from hpo.training.pace import seconds_per_epoch


@pytest.fixture(scope="module")
def splits() -> data.Splits:
    return data.make_splits(data.load("digits"), val_fraction=0.25, seed=0)


def config(width: int) -> TrainConfig:
    return TrainConfig(model={"arch": "small_resnet", "width": width, "stages": [1, 1, 1], "stem_pool": 1},
                       optimizer="sgd", lr=0.05, batch_size=64, epochs=3, schedule="onecycle", augment="crop")


def test_the_probe_gives_a_finite_pace_that_grows_with_the_width(splits: data.Splits) -> None:
    # 64 channels cost ~16x the multiply-adds of 16: far beyond the noise of a shared machine.
    narrow = seconds_per_epoch(config(8), splits, batches=4)
    wide = seconds_per_epoch(config(64), splits, batches=4)
    assert math.isfinite(narrow) and narrow > 0
    assert wide > narrow
