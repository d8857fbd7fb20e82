"""Creating studies: validation, the stored config, and the exact-budget slots."""

from __future__ import annotations

import optuna
import pytest
from optuna.trial import TrialState

from hpo.config import MARKER, StudyConfig
from hpo.errors import HpoError, UsageError
from hpo.trials.storage import open_storage
from hpo.studies.create import create, pruner_default

CONFIG = StudyConfig(space="cnn", dataset="synthetic", budget=7, epochs=2)


def test_study_holds_config_and_exactly_budget_slots(storage_url: str) -> None:
    study, created = create("s", CONFIG, open_storage(storage_url))
    assert created
    assert StudyConfig.of(study) == CONFIG
    assert study.user_attrs[MARKER] == 1
    assert [t.state for t in study.trials] == [TrialState.WAITING] * 7
    # A plain Optuna study: Optuna alone loads it.
    assert optuna.load_study(study_name="s", storage=storage_url).direction == optuna.study.StudyDirection.MAXIMIZE


def test_if_exists_skip_leaves_the_study_alone(storage_url: str) -> None:
    storage = open_storage(storage_url)
    create("s", CONFIG, storage)
    study, created = create("s", CONFIG, storage, if_exists="skip")
    assert not created and len(study.trials) == 7
    with pytest.raises(HpoError, match="already exists"):
        create("s", CONFIG, storage)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"space": "nope"}, "unknown search space"),
        ({"dataset": "nope"}, "unknown data set"),
        ({"sampler": "nope"}, "unknown sampler"),
        ({"pruner": "nope"}, "unknown pruner"),
        ({"objectives": ("speed",)}, "unknown objective"),
        ({"budget": 0}, "--trials is 0"),
        ({"epochs": 0}, "--epochs is 0"),
    ],
)
def test_invalid_config_creates_nothing(tmp_path, change: dict, message: str) -> None:  # noqa: ANN001
    import dataclasses

    storage = open_storage(f"sqlite:///{tmp_path / 'x.db'}")
    with pytest.raises(UsageError, match=message):
        create("s", dataclasses.replace(CONFIG, **change), storage)
    assert optuna.get_all_study_summaries(storage=storage) == []


def test_multi_objective_directions() -> None:
    config = StudyConfig(space="cnn", dataset="synthetic", budget=1, epochs=1, objectives=("accuracy", "params"))
    assert config.directions == ["maximize", "minimize"]


@pytest.mark.parametrize(("time_budget_s", "objectives", "sampler", "pruner"), [
    (3600.0, 1, "tpe", "promote"),  # a time budget (with --trials or without): the study ends with a final run
    (3600.0, 1, "random", "promote"),
    (3600.0, 2, "tpe", "asha"),  # the promotion scheduler ranks by one objective
    (3600.0, 1, "grid", "asha"),  # a grid compares its cells: no final run by default
    (None, 1, "tpe", "asha"),  # --trials alone: no clock to end on
])
def test_pruner_defaults(time_budget_s: float | None, objectives: int, sampler: str, pruner: str) -> None:
    assert pruner_default(time_budget_s, objectives, sampler) == pruner
