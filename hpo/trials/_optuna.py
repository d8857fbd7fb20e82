"""Every use of Optuna's private internals, in one place. Pinned to Optuna 5.x.

Private to hpo.trials, the way Optuna keeps ``storages/_rdb`` behind its storage interface:
only modules of this package import it, and tests/trials/test_optuna_contract.py runs its
contract over SQLite and PostgreSQL, so that an Optuna upgrade breaks one package's tests,
not the product. pyproject.toml pins ``optuna>=5.0,<6``; each function here was written
against Optuna 5.0's source. Where a public API exists, the rest of hpo uses it instead.

Why hpo reaches in at all:

- Ids (:func:`storage_of`, :func:`study_id`, :func:`trial_id`): a Study and a Trial keep their
  storage and database ids private, but storage methods (``get_trial``, heartbeats) take ids.
- Claiming (:func:`claim_waiting_trial`, :func:`register_claimed_trial`, correctness and speed):
  ``study.ask()`` creates a trial when the queue is empty, so N workers overshoot the budget.
  hpo claims only existing WAITING trials: in one transaction it lists their ids with one
  indexed query (not every trial with its attrs), flips one to RUNNING with a conditional
  update and records its first heartbeat.
  Optuna's ``_CachedStorage`` has then never seen that trial, but keys later writes
  (``set_trial_param``) by its trial id, so the claim registers it in the cache, seeded from
  the Trial's own frozen copy (:func:`frozen_trial_of`) rather than another read.
- The sampler's and pruner's history (:func:`oldest_open_trial_id`, :func:`trial_states_above`,
  :func:`read_trials`, speed): the cache re-reads every unfinished trial, WAITING slots
  included, on every read: ~0.9 s per read at 1,000 slots (see hpo.trials.history).
- Budget slots (:func:`insert_waiting_trials`, speed): ``study.add_trials`` commits each trial
  on its own, ~35 ms each on PostgreSQL, 6 minutes for a budget of 10,000; this inserts them
  in one transaction.
- Heartbeats (:func:`enable_heartbeat`, :func:`heartbeat_enabled`, :func:`stale_trial_ids`):
  a worker reads its heartbeat settings from the study, after opening the storage, and
  Optuna only takes them in the storage's constructor; Optuna has no public check
  whether a storage records heartbeats, and it exposes failing stale trials, not listing
  them; `hpo study show` lists them without failing them.
- Undoing a half-made study (:func:`delete_study_rows`, speed): ``optuna.delete_study`` deletes
  through the ORM's cascades, loading every trial and its rows first: 14.6 s for a study of
  20,000 slots on SQLite, which a Ctrl-C during ``hpo study create`` waited for. This deletes
  the study's rows table by table in one transaction.
- Once-only study attrs (:func:`set_study_attr_once`, correctness): the final run is started
  by exactly one of N workers; Optuna's ``set_study_user_attr`` overwrites, so it cannot tell
  the winner.
- Trial user attrs (:func:`set_user_attrs`, speed): ``trial.set_user_attr`` commits each attr
  on its own, and a worker writes ~12 per trial. Measured here for 12 attrs: 26 ms as separate
  commits on PostgreSQL, 13 ms as Optuna's per-key writes in one transaction, 3.5 ms as one
  multi-row upsert in one transaction (SQLite: 15, 10 and 2.7 ms).
- A deleted study (:func:`is_missing_record`, errors): Optuna reports a study or trial row
  that is gone as a bare ``KeyError`` with its private message; hpo.trials._retry turns it
  into :class:`~hpo.trials.StudyDeleted`.
"""

from __future__ import annotations

import copy
import datetime
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import optuna
import sqlalchemy
import sqlalchemy.orm
from optuna.storages import BaseStorage, RDBStorage
from optuna.storages._cached_storage import _CachedStorage, _StudyInfo
from optuna.storages._heartbeat import BaseHeartbeat, is_heartbeat_enabled
from optuna.storages._rdb import models
from optuna.storages._rdb.storage import _create_scoped_session
from optuna.trial import FrozenTrial, TrialState
from sqlalchemy.dialects import postgresql as pg_dialect
from sqlalchemy.dialects import sqlite as sqlite_dialect


def is_missing_record(exc: BaseException) -> bool:
    """Optuna's ``KeyError("Record does not exist.")``: the study's or trial's row is gone, which
    for a worker means its study was deleted (``hpo study delete``) under it."""
    return isinstance(exc, KeyError) and exc.args == (models.NOT_FOUND_MSG,)


def storage_of(study: optuna.Study) -> BaseStorage:
    """The storage ``study`` reads and writes through (for an RDB, Optuna's ``_CachedStorage``)."""
    return study._storage


def study_id(study: optuna.Study) -> int:
    """The database id of ``study``, as storage methods take it."""
    return study._study_id


def trial_id(trial: optuna.Trial | FrozenTrial) -> int:
    """The database id of ``trial`` (unlike its number, unique across studies)."""
    return trial._trial_id


def rdb_backend(study_or_storage: optuna.Study | BaseStorage) -> RDBStorage | None:
    """The RDBStorage behind a study or storage, unwrapping ``_CachedStorage``; None if none."""
    storage = study_or_storage
    if isinstance(storage, optuna.Study):
        storage = storage_of(storage)
    backend = storage._backend if isinstance(storage, _CachedStorage) else storage
    return backend if isinstance(backend, RDBStorage) else None


def delete_study_rows(backend: RDBStorage, study_id: int) -> None:
    """Delete the study and every row of it (trials, their params, values, attrs, heartbeats).

    One transaction, one statement per table: every table of Optuna's schema that has a
    ``trial_id`` or ``study_id`` column, children first, so a table a later Optuna adds is
    not left behind. Only for a study no worker uses (a create being undone).
    """
    studies, trials = models.StudyModel.__table__, models.TrialModel.__table__
    trial_ids = sqlalchemy.select(trials.c.trial_id).where(trials.c.study_id == study_id)
    with backend.engine.begin() as conn:
        for table in reversed(models.BaseModel.metadata.sorted_tables):
            if table is trials or table is studies:
                continue
            if "trial_id" in table.c:
                conn.execute(sqlalchemy.delete(table).where(table.c.trial_id.in_(trial_ids)))
            elif "study_id" in table.c:
                conn.execute(sqlalchemy.delete(table).where(table.c.study_id == study_id))
        conn.execute(sqlalchemy.delete(trials).where(trials.c.study_id == study_id))
        conn.execute(sqlalchemy.delete(studies).where(studies.c.study_id == study_id))


def enable_heartbeat(
    storage: RDBStorage, interval: int, grace_period: int,
    callback: optuna.storages.RetryHeartbeatStaleTrialCallback,
) -> None:
    """Give an open RDBStorage the heartbeat settings its constructor would have taken.

    A worker learns them from the study it loads, so it would otherwise open a second storage
    (a second engine, connection pool and schema check) just to pass them. These are the
    attributes ``RDBStorage.__init__`` sets from those arguments, after the same checks.
    """
    if interval <= 0 or grace_period <= 0:
        raise ValueError(f"heartbeat interval {interval!r} and grace period {grace_period!r} must be positive")
    storage.heartbeat_interval = interval
    storage.grace_period = grace_period
    storage.heartbeat_stale_trial_callback = callback
    storage.failed_trial_callback = callback


def heartbeat_enabled(storage: BaseStorage) -> bool:
    """Whether ``storage`` records heartbeats (an RDB opened with a heartbeat interval)."""
    return is_heartbeat_enabled(storage)


def stale_trial_ids(storage: BaseStorage, study_id: int) -> list[int]:
    """Ids of the study's RUNNING trials whose last heartbeat is older than the grace period.

    ``storage`` must record heartbeats (see :func:`heartbeat_enabled`).
    """
    if not isinstance(storage, BaseHeartbeat):
        raise TypeError(f"{type(storage).__name__} records no heartbeats, so it has no stale trials to list")
    return storage._get_stale_trial_ids(study_id)


# --- Claiming -------------------------------------------------------------------------------


def claim_waiting_trial(
    backend: RDBStorage, study_id: int, candidates: int, heartbeat: bool,
    only_ids: Sequence[int] | None = None, skip_marked: str | None = None,
    not_after: datetime.datetime | None = None,
) -> int | None:
    """Move one of the study's oldest WAITING trials to RUNNING; returns its id, or None.

    One transaction: list up to ``candidates`` WAITING ids (one indexed query, ids only), then
    flip the first that is still WAITING with a conditional update (a concurrent claimer's
    update makes ours match no row, and we try the next), and, if ``heartbeat``, insert the
    trial's first heartbeat. So a trial is never RUNNING without a heartbeat row: a worker that
    dies right after claiming leaves a trial that goes stale and is re-queued, where Optuna's
    separate update and beat left a window with a trial RUNNING forever. A WAITING trial has
    no heartbeat row (a retry is a new trial; a paused one had its row removed by
    :func:`pause_running_trial`).

    ``only_ids`` restricts the claim to these trials, tried in this order (promotions);
    otherwise trials whose user attr ``skip_marked`` is set (not null) are left alone (paused
    trials wait for a promotion, not for the next free worker).

    ``not_after`` (UTC): claim nothing from this moment on. Checked against the very start
    time the claim records, so a claim racing a deadline never starts a trial after it.
    """
    t = models.TrialModel
    with backend.engine.begin() as conn:
        if only_ids is not None:
            ids = list(only_ids)
        else:
            query = sqlalchemy.select(t.trial_id).where(t.study_id == study_id, t.state == TrialState.WAITING)
            if skip_marked is not None:
                a = models.TrialUserAttributeModel
                marked = sqlalchemy.select(a.trial_id).where(a.key == skip_marked, a.value_json != "null")
                query = query.where(t.trial_id.not_in(marked))
            ids = list(conn.execute(query.order_by(t.trial_id).limit(candidates)).scalars().all())
        # Optuna stores start times as naive UTC (TrialModel.datetime_start's setter).
        started = datetime.datetime.now(datetime.timezone.utc).replace(tzinfo=None)
        if not_after is not None and started >= not_after.astimezone(datetime.timezone.utc).replace(tzinfo=None):
            return None
        for candidate in ids:
            flipped = conn.execute(
                sqlalchemy.update(t.__table__)
                .where(t.__table__.c.trial_id == candidate, t.__table__.c.state == TrialState.WAITING)
                # A resumed (promoted) or retired trial keeps the start of its first attempt.
                .values(state=TrialState.RUNNING,
                        datetime_start=sqlalchemy.func.coalesce(t.__table__.c.datetime_start, started))
            )
            if flipped.rowcount == 1:
                if heartbeat:
                    h = models.TrialHeartbeatModel.__table__
                    conn.execute(sqlalchemy.delete(h).where(h.c.trial_id == candidate))  # none expected; be sure
                    conn.execute(sqlalchemy.insert(h).values(trial_id=candidate))
                return candidate
    return None


def pause_running_trial(backend: RDBStorage, trial_id: int) -> bool:
    """RUNNING -> WAITING and drop its heartbeat row, in one transaction; False if not RUNNING.

    Optuna itself never moves a trial back to WAITING, but its storage accepts it and every
    reader treats the trial as one waiting for a worker. Without a heartbeat row, a paused
    trial is never judged stale, and the next claim can record a fresh first beat.
    """
    t = models.TrialModel.__table__
    with backend.engine.begin() as conn:
        flipped = conn.execute(
            sqlalchemy.update(t).where(t.c.trial_id == trial_id, t.c.state == TrialState.RUNNING)
            .values(state=TrialState.WAITING)
        )
        if flipped.rowcount != 1:
            return False
        h = models.TrialHeartbeatModel.__table__
        conn.execute(sqlalchemy.delete(h).where(h.c.trial_id == trial_id))
    return True


def set_study_attr_once(backend: RDBStorage, study_id: int, key: str, value: Any) -> bool:
    """Write study user attr ``key`` only if it is not set yet; True for the one writer that did.

    A lock without a lock table: Optuna's study user attrs are unique per (study, key), so of
    N workers inserting the same key at once, one insert wins and the others hit the
    constraint. ``study.set_user_attr`` would overwrite instead (find, then update or insert).
    """
    a = models.StudyUserAttributeModel.__table__
    try:
        with backend.engine.begin() as conn:
            conn.execute(sqlalchemy.insert(a).values(study_id=study_id, key=key, value_json=json.dumps(value)))
    except sqlalchemy.exc.IntegrityError:
        return False
    return True


def started_waiting_trial_ids(backend: RDBStorage, study_id: int) -> list[int]:
    """Ids of the study's WAITING trials that have reported an epoch (paused ones, retries)."""
    t, v = models.TrialModel, models.TrialIntermediateValueModel
    with backend.engine.connect() as conn:
        return list(conn.execute(
            sqlalchemy.select(t.trial_id).where(
                t.study_id == study_id, t.state == TrialState.WAITING,
                sqlalchemy.exists().where(v.trial_id == t.trial_id),
            )
        ).scalars().all())


def marked_waiting_trial_ids(backend: RDBStorage, study_id: int, key: str, value: Any = None) -> list[int]:
    """Ids of the study's WAITING trials whose user attr ``key`` is set (not null); equal to
    ``value`` when one is given (compared as Optuna stores it, JSON)."""
    t, a = models.TrialModel, models.TrialUserAttributeModel
    match = a.value_json != "null" if value is None else a.value_json == json.dumps(value)
    with backend.engine.connect() as conn:
        return list(conn.execute(
            sqlalchemy.select(t.trial_id).join(a, a.trial_id == t.trial_id)
            .where(t.study_id == study_id, t.state == TrialState.WAITING, a.key == key, match)
        ).scalars().all())


def register_claimed_trial(study: optuna.Study, trial: optuna.Trial) -> None:
    """Tell Optuna's trial cache about a trial this process claimed (not created) itself.

    ``_CachedStorage`` keys writes such as ``set_trial_param`` by trial id and fails on an id it
    has never seen. The trial is marked unfinished, so the cache's next read refreshes it.
    The trial's own frozen copy (read when the Trial was built) seeds the cache, so this costs
    no read. A no-op for storages without that cache.
    """
    storage = storage_of(study)
    if not isinstance(storage, _CachedStorage):
        return
    frozen = copy.deepcopy(frozen_trial_of(trial))  # the Trial mutates its own copy
    with storage._lock:
        info = storage._studies.setdefault(study_id(study), _StudyInfo())
        storage._add_trials_to_cache(study_id(study), [frozen])
        info.unfinished_trial_ids.add(trial_id(trial))


def frozen_trial_of(trial: optuna.Trial) -> FrozenTrial:
    """The FrozenTrial an ``optuna.Trial`` read when it was built and keeps up to date itself.

    It holds the system attrs the trial was created with (a retry's ``failed_trial``), so
    reading them here saves a database read per trial.
    """
    return trial._cached_frozen_trial


# --- Budget slots ---------------------------------------------------------------------------


def insert_waiting_trials(
    backend: RDBStorage, study_id: int, first_number: int, n: int,
    fixed_params: Sequence[Mapping[str, Any]] | None = None,
    user_attrs: Sequence[Mapping[str, Any]] | None = None,
) -> None:
    """Insert ``n`` WAITING trials numbered from ``first_number``, in one transaction.

    The caller guarantees that nothing else numbers trials of this study meanwhile. With
    ``fixed_params`` (one dict per trial, ``n`` ignored), each trial carries them as Optuna's
    ``fixed_params`` system attr, exactly as ``study.enqueue_trial`` stores them, so every
    sampler's suggestions return those values. ``user_attrs`` (one dict per trial beside
    ``fixed_params``) become the trials' user attrs.
    """
    count = len(fixed_params) if fixed_params is not None else n
    session = backend.scoped_session()
    try:
        rows = [models.TrialModel(number=first_number + i, study_id=study_id, state=TrialState.WAITING)
                for i in range(count)]
        session.add_all(rows)
        if fixed_params is not None:
            session.flush()  # assigns the trial ids
            session.add_all(
                models.TrialSystemAttributeModel(trial_id=row.trial_id, key="fixed_params", value_json=json.dumps(dict(p)))
                for row, p in zip(rows, fixed_params)
            )
            for row, attrs in zip(rows, user_attrs or ()):
                session.add_all(models.TrialUserAttributeModel(trial_id=row.trial_id, key=k, value_json=json.dumps(v))
                                for k, v in attrs.items())
        session.commit()
    finally:
        session.close()


# --- The sampler's and pruner's history -----------------------------------------------------


def oldest_open_trial_id(conn: sqlalchemy.Connection, study_id: int) -> int | None:
    """The smallest id of the study's WAITING or RUNNING trials; None if there is none."""
    t = models.TrialModel
    return conn.execute(
        sqlalchemy.select(sqlalchemy.func.min(t.trial_id)).where(
            t.study_id == study_id, t.state.in_([TrialState.WAITING, TrialState.RUNNING])
        )
    ).scalar()


def trial_states_above(
    conn: sqlalchemy.Connection, study_id: int, boundary: int, states: Iterable[TrialState]
) -> list[tuple[int, TrialState]]:
    """(id, state) of the study's trials in ``states`` with an id above ``boundary``: no attrs."""
    t = models.TrialModel
    rows = conn.execute(
        sqlalchemy.select(t.trial_id, t.state).where(
            t.study_id == study_id, t.trial_id > boundary, t.state.in_(list(states))
        )
    )
    return [(row[0], row[1]) for row in rows]


def read_trials(
    backend: RDBStorage,
    study_id: int,
    states: Iterable[TrialState],
    trial_ids: set[int],
    id_greater_than: int,
) -> list[FrozenTrial]:
    """Full trials in ``states`` whose id is in ``trial_ids`` or above ``id_greater_than``.

    Optuna's own incremental read (what ``_CachedStorage`` refreshes with). Ids in
    ``trial_ids`` above ``id_greater_than`` are dropped by Optuna: they are covered anyway.
    """
    return backend._get_trials(study_id, tuple(states), trial_ids, id_greater_than)


# --- Several user attrs in one transaction --------------------------------------------------


def set_user_attrs(trial: optuna.Trial, attrs: Mapping[str, Any]) -> None:
    """``trial.set_user_attr(key, value)`` for every item, in ONE transaction on an RDB.

    Same semantics as Optuna 5.0's ``RDBStorage.set_trial_user_attr``: the trial must still be
    updatable (else :class:`optuna.exceptions.UpdateFinishedTrialError`, and nothing is
    written), each value is stored as ``json.dumps(value)`` (a value that is not JSON-able
    raises TypeError, and nothing is written), an existing key is overwritten. Either every
    attr is written or none is. ``_CachedStorage.set_trial_user_attr`` only forwards to its
    backend and re-reads unfinished trials on every read, so its cache needs no update; the
    trial's own copy (``trial.user_attrs``) is updated as ``set_user_attr`` does, after the
    commit. Other storages get one ``set_user_attr`` per item.
    """
    if not attrs:
        return
    backend = rdb_backend(trial.storage)
    if backend is None:
        for key, value in attrs.items():
            trial.set_user_attr(key, value)
        return
    tid = trial_id(trial)
    # Optuna's own session scope: commit at the end, rollback and re-raise on any error
    # (SQLAlchemy errors as StorageInternalError), an IntegrityError ignored as Optuna does.
    with _create_scoped_session(backend.scoped_session, True) as session:
        # On SQLite hpo's engines BEGIN IMMEDIATE here, so the check and the write are atomic.
        row = models.TrialModel.find_or_raise_by_id(tid, session)
        backend.check_trial_is_updatable(tid, row.state)
        _upsert_user_attrs(backend, session, tid, attrs)
    trial._cached_frozen_trial.user_attrs.update(attrs)


def _upsert_user_attrs(
    backend: RDBStorage, session: sqlalchemy.orm.Session, tid: int, attrs: Mapping[str, Any]
) -> None:
    """One multi-row INSERT ... ON CONFLICT DO UPDATE where Optuna upserts that way itself."""
    model = models.TrialUserAttributeModel
    name = backend.engine.name
    # The two dialects' insert() build different classes with the same ON CONFLICT API.
    insert: Callable[..., Any]
    if name == "postgresql":
        insert = pg_dialect.insert
    elif name == "sqlite" and sqlite3.sqlite_version_info >= (3, 24, 0):  # Optuna's condition
        insert = sqlite_dialect.insert
    else:  # MySQL, old SQLite: Optuna's per-key write, still inside this one transaction
        for key, value in attrs.items():
            backend._set_trial_attr_without_commit(session, model, tid, key, value)
        return
    rows = [{"trial_id": tid, "key": k, "value_json": json.dumps(v)} for k, v in attrs.items()]
    stmt = insert(model).values(rows)
    session.execute(
        stmt.on_conflict_do_update(
            index_elements=[model.trial_id, model.key], set_={"value_json": stmt.excluded.value_json}
        )
    )
