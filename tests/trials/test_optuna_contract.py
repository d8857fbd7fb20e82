"""Optuna's internals behind hpo.trials._optuna: batched user attrs, against real databases."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import optuna
import pytest
import sqlalchemy

from hpo.config import StudyConfig
from hpo.trials._optuna import (
    claim_waiting_trial,
    delete_study_rows,
    insert_waiting_trials,
    marked_waiting_trial_ids,
    pause_running_trial,
    rdb_backend,
    set_study_attr_once,
    set_user_attrs,
    started_waiting_trial_ids,
    storage_of,
    study_id,
    trial_id,
)
from hpo.trials.final_run import Plan
from hpo.trials.slots import add_final_run_slot
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


# --- Pausing, fixed-param slots and the queries behind them ----------------------------------


def test_a_paused_trial_is_waiting_to_optuna_and_resumes_with_its_params_and_curve(storage_url: str) -> None:
    study, trial = _claimed(storage_url)
    backend = rdb_backend(study)
    x = trial.suggest_float("x", 0.0, 1.0)
    trial.report(0.5, 1)
    trial.set_user_attr("paused_epoch", 1)
    assert pause_running_trial(backend, trial_id(trial))
    assert not pause_running_trial(backend, trial_id(trial))  # only a RUNNING trial pauses
    # A fresh reader (Optuna's own API, the dashboard) sees a WAITING trial that kept everything.
    frozen = optuna.load_study(study_name="s", storage=storage_url).trials[trial.number]
    assert frozen.state == optuna.trial.TrialState.WAITING
    assert frozen.params == {"x": x} and frozen.intermediate_values == {1: 0.5}
    sid = study_id(study)
    assert marked_waiting_trial_ids(backend, sid, "paused_epoch") == [trial_id(trial)]
    # Matched by value too, as Optuna stores it (JSON): what a lane's final run is found by.
    assert marked_waiting_trial_ids(backend, sid, "paused_epoch", 1) == [trial_id(trial)]
    assert marked_waiting_trial_ids(backend, sid, "paused_epoch", 2) == []
    assert started_waiting_trial_ids(backend, sid) == [trial_id(trial)]
    # A plain claim skips it; a claim for it by id takes it, with a fresh first heartbeat.
    fresh = claim_waiting_trial(backend, sid, 32, heartbeat=True, skip_marked="paused_epoch")
    assert fresh is not None and fresh != trial_id(trial)
    assert claim_waiting_trial(backend, sid, 32, heartbeat=True, only_ids=[trial_id(trial)]) == trial_id(trial)
    resumed = optuna.Trial(study, trial_id(trial))
    assert resumed.suggest_float("x", 0.0, 1.0) == x  # Optuna returns the stored param
    resumed.report(0.7, 3)
    study.tell(resumed, 0.7)
    done = optuna.load_study(study_name="s", storage=storage_url).trials[trial.number]
    assert done.state == optuna.trial.TrialState.COMPLETE and done.intermediate_values == {1: 0.5, 3: 0.7}


def test_fixed_param_slots_are_what_enqueue_trial_makes(storage_url: str) -> None:
    study = optuna.create_study(study_name="g", storage=open_storage(storage_url))
    cells = [{"depth": 1, "kind": "u"}, {"depth": 2, "kind": "v"}]
    insert_waiting_trials(rdb_backend(study), study_id(study), 0, 0, fixed_params=cells)
    study.enqueue_trial({"depth": 3, "kind": "w"})
    fixed = [t.system_attrs["fixed_params"] for t in study.get_trials()]
    assert fixed == [*cells, {"depth": 3, "kind": "w"}]
    trial = study.ask()  # Optuna's own ask takes the oldest enqueued slot and honours it
    assert trial.suggest_int("depth", 1, 6) == 1 and trial.suggest_categorical("kind", ["u", "v", "w"]) == "u"


def test_slots_carry_user_attrs_as_optunas_own_and_a_claim_sees_them(storage_url: str) -> None:
    # A seeded grid's slots: each cell once per repeat, the repeat in the slot's user attrs.
    study = optuna.create_study(study_name="r", storage=open_storage(storage_url))
    cells = [{"depth": 1, "kind": "u"}, {"depth": 1, "kind": "u"}]
    insert_waiting_trials(rdb_backend(study), study_id(study), 0, 0, fixed_params=cells,
                          user_attrs=[{"replicate": 0}, {"replicate": 1}])
    fresh = optuna.load_study(study_name="r", storage=open_storage(storage_url))
    assert [t.user_attrs for t in fresh.get_trials()] == [{"replicate": 0}, {"replicate": 1}]
    assert [t.system_attrs["fixed_params"] for t in fresh.get_trials()] == cells


def test_a_study_attr_set_once_has_one_writer_and_reads_as_optunas_own(storage_url: str) -> None:
    study = optuna.create_study(study_name="o", storage=open_storage(storage_url))
    other = optuna.load_study(study_name="o", storage=open_storage(storage_url))  # another worker
    backend, sid = rdb_backend(study), study_id(study)
    assert set_study_attr_once(backend, sid, "final_run", {"source": 3, "epochs": 20}) is True
    assert set_study_attr_once(rdb_backend(other), study_id(other), "final_run", {"source": 4, "epochs": 9}) is False
    assert set_study_attr_once(backend, sid, "final_run", None) is False
    # Written as Optuna writes it: its own readers see the first value, untouched.
    fresh = optuna.load_study(study_name="o", storage=open_storage(storage_url))
    assert fresh.user_attrs == {"final_run": {"source": 3, "epochs": 20}}
    study.set_user_attr("final_run", "overwritten")  # Optuna's own write still works on the row
    assert optuna.load_study(study_name="o", storage=open_storage(storage_url)).user_attrs["final_run"] == "overwritten"


def test_the_final_run_slot_is_a_waiting_trial_with_fixed_params_and_its_epochs(storage_url: str) -> None:
    study = optuna.create_study(study_name="f", storage=open_storage(storage_url))
    params = {"width": 24, "optimizer": "adamw"}
    tid = add_final_run_slot(rdb_backend(study), study_id(study), Plan(source=7, params=params, epochs=35, ends=0.0),
                             lane="boot-a")
    (slot,) = study.get_trials()
    assert (trial_id(slot), slot.state) == (tid, optuna.trial.TrialState.WAITING)
    assert slot.user_attrs == {"final_run_epochs": 35, "final_run_of": 7, "final_run_ends": 0.0,
                               "final_run_lane": "boot-a"}
    trial = study.ask()  # Optuna's own ask honours the fixed params, as for enqueue_trial
    assert trial.suggest_int("width", 16, 32) == 24
    assert trial.suggest_categorical("optimizer", ["sgd", "adamw"]) == "adamw"


def _filled_study(storage: optuna.storages.BaseStorage, name: str) -> optuna.Study:
    """A study with a row in every table a study and its trials reach."""
    study = optuna.create_study(study_name=name, storage=storage)
    study.set_user_attr("u", 1)
    storage.set_study_system_attr(study_id(study), "s", 2)
    for _ in range(3):
        trial = study.ask()
        trial.suggest_float("x", 0.0, 1.0)
        trial.report(0.5, 1)
        trial.set_user_attr("worker", "w")
        study.tell(trial, 0.25)
    study.enqueue_trial({"x": 0.5})  # a WAITING trial with a system attr ...
    backend = rdb_backend(storage)
    assert backend is not None  # ... claimed with its first heartbeat
    assert claim_waiting_trial(backend, study_id(study), 32, heartbeat=True) is not None
    return study


def test_deleting_a_studys_rows_leaves_nothing_of_it_and_the_others_as_they_were(storage_url: str) -> None:
    storage = open_storage(storage_url)
    doomed, kept = _filled_study(storage, "doomed"), _filled_study(storage, "kept")
    backend = rdb_backend(storage)
    assert backend is not None
    before = kept.get_trials(deepcopy=False)
    delete_study_rows(backend, study_id(doomed))

    assert optuna.get_all_study_names(storage_url) == ["kept"]
    fresh = optuna.load_study(study_name="kept", storage=storage_url)
    assert fresh.get_trials(deepcopy=False) == before and fresh.user_attrs == {"u": 1}
    # Nothing of the deleted study in any table.
    from optuna.storages._rdb import models

    with backend.engine.connect() as conn:
        trials = models.TrialModel.__table__
        kept_ids = sqlalchemy.select(trials.c.trial_id).where(trials.c.study_id == study_id(kept))
        assert conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(models.TrialHeartbeatModel.__table__)
                            ).scalar() == 1  # the kept study's
        for table in models.BaseModel.metadata.sorted_tables:
            if "study_id" in table.c:
                where = table.c.study_id == study_id(doomed)
            elif "trial_id" in table.c:
                where = table.c.trial_id.not_in(kept_ids)
            else:
                continue
            left = conn.execute(sqlalchemy.select(sqlalchemy.func.count()).select_from(table).where(where)).scalar()
            assert left == 0, table.name
    # The name is free again, as optuna.delete_study leaves it.
    optuna.create_study(study_name="doomed", storage=storage_url)
