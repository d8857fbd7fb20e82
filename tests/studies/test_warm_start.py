"""Warm start: the space's defaults fill the first budget slot, which workers claim first."""

from __future__ import annotations

import dataclasses

import optuna
import pytest

from hpo.config import StudyConfig
from hpo.errors import UsageError
from hpo.spaces import get_space
from hpo.trials.storage import open_storage
from hpo.studies.create import create, warm_start_default
from tests.helpers import claim

CONFIG = StudyConfig(space="cnn", dataset="synthetic", budget=5, epochs=1, sampler="random", warm_start=True)
DEFAULTS = {"n_layers": 2, "kernel": 3, "optimizer": "adam", "lr": 1e-3}


def fixed(study: optuna.Study) -> list[dict | None]:
    return [t.system_attrs.get("fixed_params") for t in study.get_trials(deepcopy=False)]


def test_first_claimed_trial_trains_the_defaults_and_the_budget_stays_exact(storage_url: str) -> None:
    create("s", CONFIG, open_storage(storage_url))
    study = optuna.load_study(study_name="s", storage=open_storage(storage_url),
                              sampler=optuna.samplers.RandomSampler(seed=0))
    assert StudyConfig.of(study).warm_start
    assert fixed(study) == [DEFAULTS, None, None, None, None]  # exactly --trials slots
    space = get_space("cnn")
    first = claim(study)
    assert first is not None and first.number == 0
    assert space.suggest(first) == DEFAULTS
    second = claim(study)
    assert second is not None and second.number == 1 and space.suggest(second) != DEFAULTS


def test_a_budget_of_one_is_the_defaults_alone(storage_url: str) -> None:
    study, _ = create("one", dataclasses.replace(CONFIG, budget=1), open_storage(storage_url))
    assert fixed(study) == [DEFAULTS]


def test_without_warm_start_no_slot_is_fixed(storage_url: str) -> None:
    study, _ = create("cold", dataclasses.replace(CONFIG, warm_start=False), open_storage(storage_url))
    assert fixed(study) == [None] * 5 and not StudyConfig.of(study).warm_start


def test_on_by_default_except_for_the_grid_and_spaces_without_defaults() -> None:
    assert warm_start_default(get_space("cnn"), "tpe")
    assert not warm_start_default(get_space("activation_optimizer"), "grid")
    assert not warm_start_default(get_space("sleep"), "tpe")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"space": "sleep", "dataset": "synthetic"}, "--warm-start needs defaults, and space 'sleep' declares none"),
        ({"space": "activation_optimizer", "sampler": "grid", "epochs": 3}, "--warm-start does not work with --sampler grid"),
    ],
)
def test_warm_start_where_it_cannot_apply_is_refused(tmp_path, change: dict, message: str) -> None:  # noqa: ANN001
    storage = open_storage(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(UsageError, match=message):
        create("s", dataclasses.replace(CONFIG, **change), storage)
    assert optuna.get_all_study_summaries(storage=storage) == []
