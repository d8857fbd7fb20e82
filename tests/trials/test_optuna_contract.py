"""Optuna's internals behind hpo.trials._optuna: batched user attrs, against real databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import optuna
import pytest
import sqlalchemy

from hpo.config import StudyConfig
from hpo.trials._optuna import rdb_backend, set_user_attrs, storage_of, trial_id
from hpo.trials.storage import open_storage
from hpo.studies.create import create
from tests.helpers import claim

ATTRS: dict[str, Any] = {
    "n_params": 12345,
    "val_accuracy": 0.875,
    "curve": [0.5, 0.75, None],
    "setup": {"device": "cpu", "threads": 2, "nested": {"ok": True}},
    "note": "naïve ✓",
    "missing": None,
}


def _claimed(url: str) -> tuple[optuna.Study, optuna.Trial]:
    """A RUNNING trial claimed the way a worker claims it, through Optuna's trial cache."""
    create("s", StudyConfig(space="sleep", dataset="synthetic", budget=3, epochs=1), open_storage(url))
    study = optuna.load_study(study_name="s", storage=open_storage(url))
    trial = claim(study)
    assert trial is not None
    return study, trial


@contextmanager
def _commits(study: optuna.Study) -> Iterator[list[int]]:
    """Counts the commits on the study's engine while the block runs."""
    engine = rdb_backend(study).engine
    seen: list[int] = []

    def on_commit(_conn: sqlalchemy.Connection) -> None:
        seen.append(1)

    sqlalchemy.event.listen(engine, "commit", on_commit)
    try:
        yield seen
    finally:
        sqlalchemy.event.remove(engine, "commit", on_commit)


def test_attrs_are_visible_everywhere_in_this_process_and_another(storage_url: str) -> None:
    study, trial = _claimed(storage_url)
    trial.set_user_attr("note", "overwritten below")
    study.trials  # noqa: B018 - the cache now holds the trial with the old value
    set_user_attrs(trial, ATTRS)
    assert trial.user_attrs == ATTRS
    assert study.trials[trial.number].user_attrs == ATTRS
    assert study.get_trials(deepcopy=False)[trial.number].user_attrs == ATTRS
    assert storage_of(study).get_trial(trial_id(trial)).user_attrs == ATTRS
    fresh = optuna.load_study(study_name="s", storage=open_storage(storage_url))
    assert fresh.trials[trial.number].user_attrs == ATTRS
    # The trial still finishes normally, and keeps its attrs.
    study.tell(trial, 0.5)
    assert study.trials[trial.number].user_attrs == ATTRS


def test_all_attrs_are_one_commit(storage_url: str) -> None:
    study, trial = _claimed(storage_url)
    with _commits(study) as commits:
        for key, value in list(ATTRS.items())[:3]:
            trial.set_user_attr(key, value)
    assert len(commits) == 3  # the counter sees Optuna's commit per attr
    with _commits(study) as commits:
        set_user_attrs(trial, ATTRS)
    assert len(commits) == 1
    with _commits(study) as commits:
        set_user_attrs(trial, {})
    assert commits == []


def test_a_bad_value_writes_none_of_the_attrs(storage_url: str) -> None:
    study, trial = _claimed(storage_url)
    trial.set_user_attr("kept", 1)
    with pytest.raises(TypeError, match="not JSON serializable"):
        set_user_attrs(trial, {"first": 1, "bad": object(), "last": 2})
    expected = {"kept": 1}
    assert trial.user_attrs == expected
    assert study.trials[trial.number].user_attrs == expected
    assert optuna.load_study(study_name="s", storage=open_storage(storage_url)).trials[trial.number].user_attrs == expected


def test_a_trial_finished_elsewhere_is_refused_as_optuna_refuses_it(storage_url: str) -> None:
    study, trial = _claimed(storage_url)
    # Another process (say, a worker that judged ours stale) fails the trial; ours still holds it.
    other = optuna.load_study(study_name="s", storage=open_storage(storage_url))
    other.tell(trial.number, state=optuna.trial.TrialState.FAIL)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError) as optunas:
        trial.set_user_attr("late", 1)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError) as ours:
        set_user_attrs(trial, {"late": 1, "later": 2})
    assert str(ours.value) == str(optunas.value)
    assert study.trials[trial.number].user_attrs == {}


def test_other_storages_fall_back_to_one_write_per_attr(monkeypatch: pytest.MonkeyPatch) -> None:
    study = optuna.create_study()  # InMemoryStorage
    assert rdb_backend(study) is None
    trial = study.ask()
    written: list[str] = []
    original = optuna.Trial.set_user_attr
    monkeypatch.setattr(optuna.Trial, "set_user_attr", lambda self, k, v: (written.append(k), original(self, k, v)))
    set_user_attrs(trial, ATTRS)
    assert written == list(ATTRS)
    assert trial.user_attrs == ATTRS
    assert study.trials[trial.number].user_attrs == ATTRS
    study.tell(trial, 0.5)
    with pytest.raises(optuna.exceptions.UpdateFinishedTrialError):
        set_user_attrs(trial, {"late": 1})


def test_rdb_backend_unwraps_optunas_cache(tmp_path: Any) -> None:
    storage = open_storage(f"sqlite:///{tmp_path / 'x.db'}")
    study = optuna.create_study(storage=storage)
    assert storage_of(study) is not storage  # Optuna wrapped it in its _CachedStorage
    assert rdb_backend(study) is storage
    assert rdb_backend(storage_of(study)) is storage
    assert rdb_backend(storage) is storage
    assert rdb_backend(optuna.storages.InMemoryStorage()) is None
