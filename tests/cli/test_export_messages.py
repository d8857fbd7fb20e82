"""What `hpo export` says about a model that runs with its mirror view (twice the compute per image)."""

from __future__ import annotations

import optuna
import pytest
from optuna.distributions import FloatDistribution

from hpo.cli.export import _say_test_time


def _trial(**attrs: object) -> optuna.trial.FrozenTrial:
    return optuna.trial.create_trial(params={"lr": 0.01}, distributions={"lr": FloatDistribution(1e-3, 1.0)},
                                     value=0.9, user_attrs=attrs)


def test_a_flip_model_is_announced_with_both_validation_accuracies(capsys: pytest.CaptureFixture[str]) -> None:
    _say_test_time(_trial(test_time_augment="flip", val_accuracy_flip=0.9412, val_accuracy=0.9388))
    out = capsys.readouterr().out
    assert "averages the two (test-time augmentation)" in out
    assert "0.9412 with it, 0.9388 without" in out


@pytest.mark.parametrize("attrs", [{"test_time_augment": "none", "val_accuracy_flip": 0.9}, {}])
def test_a_bare_model_gets_no_such_line(attrs: dict[str, object], capsys: pytest.CaptureFixture[str]) -> None:
    _say_test_time(_trial(**attrs))
    assert capsys.readouterr().out == ""
