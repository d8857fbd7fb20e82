"""Claiming: one transaction takes a WAITING trial and records its first heartbeat, on real databases."""

from __future__ import annotations

import datetime
import threading
import time

import optuna
import pytest
import sqlalchemy
from optuna.trial import TrialState

from hpo.config import StudyConfig
from hpo.trials._optuna import claim_waiting_trial, rdb_backend, study_id, trial_id
from hpo.trials.storage import open_storage
from hpo.studies.create import create
from tests.helpers import claim


def _study(url: str, budget: int, heartbeat: bool) -> optuna.Study:
    create("s", StudyConfig(space="sleep", dataset="synthetic", budget=budget, epochs=1), open_storage(url))
    storage = open_storage(url, heartbeat_interval=60, grace_period=120) if heartbeat else open_storage(url)
    return optuna.load_study(study_name="s", storage=storage)


def _heartbeat_rows(study: optuna.Study) -> dict[int, datetime.datetime]:
    with rdb_backend(study).engine.connect() as conn:
        return dict(conn.execute(sqlalchemy.text("SELECT trial_id, heartbeat FROM trial_heartbeats")).all())


def test_claims_take_the_oldest_waiting_trials_one_by_one_until_none_is_left(storage_url: str) -> None:
    study = _study(storage_url, budget=3, heartbeat=False)
    trials = [claim(study) for _ in range(3)]
    assert [t.number for t in trials if t is not None] == [0, 1, 2]
    assert claim(study) is None
    frozen = study.get_trials(deepcopy=False)
    assert [t.state for t in frozen] == [TrialState.RUNNING] * 3
    # Start times are stored as Optuna stores them (naive UTC, read back as naive local time),
    # so durations and the dashboard's times are right.
    now = datetime.datetime.now()
    assert all(abs((now - t.datetime_start).total_seconds()) < 60 for t in frozen)
    assert set(_heartbeat_rows(study)) == {trial_id(t) for t in trials if t is not None}


def test_the_claim_and_its_first_heartbeat_are_one_commit(storage_url: str) -> None:
    study = _study(storage_url, budget=2, heartbeat=True)
    engine = rdb_backend(study).engine
    commits: list[int] = []
    sqlalchemy.event.listen(engine, "commit", lambda _conn: commits.append(1))
    claimed = claim_waiting_trial(rdb_backend(study), study_id(study), 32, heartbeat=True)
    assert len(commits) == 1
    assert claimed is not None and set(_heartbeat_rows(study)) == {claimed}
    # The trial is usable as any other: it reports and finishes through Optuna.
    trial = claim(study)
    assert trial is not None and trial_id(trial) != claimed
    trial.report(0.5, 1)
    study.tell(trial, 0.5)
    assert study.trials[trial.number].state == TrialState.COMPLETE


def test_a_trial_another_worker_is_claiming_is_skipped(storage_url: str) -> None:
    if storage_url.startswith("sqlite"):
        pytest.skip("SQLite serializes writers (BEGIN IMMEDIATE): claims never overlap")
    study = _study(storage_url, budget=2, heartbeat=True)
    backend = rdb_backend(study)
    first, second = (trial_id(t) for t in study.get_trials(deepcopy=False))
    # Another worker has flipped trial 0 but not committed: our claim still lists trial 0,
    # its conditional update waits on that row lock, then matches nothing, and takes trial 1.
    other = sqlalchemy.create_engine(storage_url)
    result: list[int | None] = []
    with other.connect() as conn:
        tx = conn.begin()
        conn.execute(sqlalchemy.text("UPDATE trials SET state = 'RUNNING' WHERE trial_id = :i"), {"i": first})
        ours = threading.Thread(target=lambda: result.append(claim_waiting_trial(backend, study_id(study), 32, True)))
        ours.start()
        time.sleep(1.0)  # let our claim list the ids and block on trial 0's row
        assert ours.is_alive()  # it waits on the row lock: the overlap really happened
        tx.commit()
        ours.join(timeout=30)
    other.dispose()
    assert result == [second]
    assert set(_heartbeat_rows(study)) == {second}
