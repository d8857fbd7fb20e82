"""Where studies live: resolving, opening and masking storage URLs.

The URL comes from ``--storage``, else ``HPO_STORAGE`` (resolved once into hpo.settings), else
an embedded SQLite file in the current folder. SQLite is tuned so that several local workers can share one file; PostgreSQL
gets ``pool_pre_ping`` so that a restarted server does not hand out dead connections.
"""

from __future__ import annotations

import copy
import os
import re
import sqlite3
import time
import weakref
from typing import Any

import optuna
import sqlalchemy
from sqlalchemy import event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, IntegrityError, NoSuchModuleError, ProgrammingError

from hpo.errors import HpoError, UsageError, first_line
from hpo.settings import DEFAULT_SQLITE_FILE
from hpo.trials import _optuna
from hpo.trials._retry import Retrier
from hpo.trials.records import TrialKeys
from hpo.trials.storage_errors import driver_reason, is_permanent

SQLITE_BUSY_TIMEOUT_S = 120
# Commands a person waits on retry a refused connection this long (a restarting server);
# only the worker and `study create` wait HPO_DB_RETRY_TIMEOUT (compose starts them with it).
INTERACTIVE_WAIT_S = 10.0
SUPPORTED_BACKENDS = ("sqlite", "postgresql")
SCHEMA_RACE_ATTEMPTS = 5

# user:pass:word@ or user:pa/ss@ before the host: SQLAlchemy would split the URL at the wrong place.
_RAW_SPECIAL_IN_PASSWORD = re.compile(r"://[^:/@]+:[^@]*[:/][^@]*@")
_PASSWORD_IN_URL = re.compile(r"(?P<head>://[^:/@]+:)(?P<password>[^@]*)(?P<tail>@)")


def resolve_url(url: str | None) -> str:
    """The storage URL to use: the given one (flag or ``HPO_STORAGE``), or ``sqlite:///hpo.db``."""
    return url or f"sqlite:///{DEFAULT_SQLITE_FILE}"


def mask_url(url: str) -> str:
    """The URL with its password replaced by ``***``, safe for logs and tables."""
    return _PASSWORD_IN_URL.sub(r"\g<head>***\g<tail>", url)


def _check_url(url: str) -> sqlalchemy.engine.URL:
    if url.count("@") > 1 or _RAW_SPECIAL_IN_PASSWORD.search(url):
        raise UsageError(
            f"storage URL {mask_url(url)!r} has '@', ':' or '/' in its password; percent-encode them "
            "(@ as %40, : as %3A, / as %2F), e.g. python3 -c \"import urllib.parse; print(urllib.parse.quote('PASSWORD', safe=''))\""
        )
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise UsageError(
            f"storage URL {mask_url(url)!r} is not a database URL; use e.g. "
            "sqlite:///hpo.db or postgresql+psycopg2://user@host:5432/db"
        ) from None
    if parsed.get_backend_name() not in SUPPORTED_BACKENDS:
        raise UsageError(
            f"storage URL {mask_url(url)!r} uses {parsed.get_backend_name()!r}; "
            "hpo supports sqlite and postgresql, e.g. sqlite:///hpo.db or postgresql://user@host:5432/db"
        )
    if parsed.drivername == "postgresql":
        # SQLAlchemy 2.1 reads plain postgresql:// as psycopg (3); hpo ships psycopg2.
        parsed = parsed.set(drivername="postgresql+psycopg2")
    return parsed


def describe(url: str) -> str:
    """The database in words, for messages: 'PostgreSQL at db:5432/hpo', 'SQLite file hpo.db'."""
    try:
        parsed = make_url(url)
    except ArgumentError:
        return mask_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite file {parsed.database or ':memory:'}"
    return f"PostgreSQL at {parsed.host or 'localhost'}:{parsed.port or 5432}/{parsed.database or ''}"


def check_writable(url: str | None) -> None:
    """Fail at once when the storage is an SQLite file (or folder) this process cannot write.

    For commands that write (create, delete, worker, recover): SQLite reports a read-only file
    only at the first write, as an error Optuna dresses as "exceeding max length".
    """
    url = resolve_url(url)
    parsed = _check_url(url)
    database = parsed.database
    if parsed.get_backend_name() != "sqlite" or not database or database == ":memory:":
        return
    database = os.path.abspath(database)
    folder = os.path.dirname(database)
    if os.path.exists(database) and not os.access(database, os.W_OK):
        raise HpoError(f"storage {database} is read-only for this user; make it writable "
                       f"(chmod u+w {database}) or pass another --storage")
    if os.path.isdir(folder) and not os.access(folder, os.W_OK | os.X_OK):
        raise HpoError(f"storage {database} is in folder {folder}, which this user cannot write (SQLite "
                       "keeps its journal beside the file); make it writable or pass another --storage")


def _engine_kwargs(parsed: sqlalchemy.engine.URL) -> dict[str, Any]:
    if parsed.get_backend_name() == "sqlite":
        # A long busy timeout lets several workers queue for the single writer lock.
        return {"connect_args": {"timeout": SQLITE_BUSY_TIMEOUT_S}}
    if parsed.get_backend_name() == "postgresql":
        # Optuna enables pre-ping only for MySQL; without it a restarted PostgreSQL server
        # leaves dead connections in the pool. The connect timeout keeps an unreachable host
        # from hanging the CLI.
        return {"pool_pre_ping": True, "connect_args": {"connect_timeout": 10}}
    return {"pool_pre_ping": True}


class StorageMissing(HpoError):
    """A read-only command was pointed at an SQLite file that does not exist."""


# SQLite engines whose transactions take the write lock at BEGIN; see _sqlite_on_begin.
_SERIALIZED_ENGINES: weakref.WeakSet[sqlalchemy.engine.Engine] = weakref.WeakSet()


@event.listens_for(sqlalchemy.engine.Engine, "connect")
def _sqlite_on_connect(dbapi_connection: Any, _record: Any) -> None:
    """Put SQLite files in WAL mode with a long busy timeout, and let us emit BEGIN ourselves.

    Registered on the Engine class because Optuna builds its engine internally.
    """
    if not isinstance(dbapi_connection, sqlite3.Connection):
        return
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_S * 1000}")
    cursor.close()


@event.listens_for(sqlalchemy.engine.Engine, "begin")
def _sqlite_on_begin(conn: sqlalchemy.engine.Connection) -> None:
    """Make SQLite transactions serializable: BEGIN IMMEDIATE takes the write lock up front.

    Optuna's read-check-write updates (WAITING -> RUNNING when claiming a trial, RUNNING ->
    FAIL for stale trials) rely on row locks that SQLite does not have; pysqlite even runs
    the SELECT outside any transaction. Without this, two workers can claim the same trial.
    Only engines registered after Optuna's schema set-up get it, because that set-up nests a
    second connection inside an open one and would wait on itself.
    """
    if conn.dialect.name == "sqlite" and conn.engine in _SERIALIZED_ENGINES:
        conn.exec_driver_sql("BEGIN IMMEDIATE")


class _RetryCallback(optuna.storages.RetryHeartbeatStaleTrialCallback):
    """Optuna's retry, less the attempt's ``fail_reason``: that says why the attempt ended
    (handed back, or a crash), and on the retry, which goes on to complete, it would read as
    the retry's own ending. The failed attempt keeps it."""

    def __call__(self, study: optuna.Study, trial: optuna.trial.FrozenTrial) -> None:
        trial = copy.copy(trial)  # the caller's frozen trial stays as it was
        trial.user_attrs = {k: v for k, v in trial.user_attrs.items() if k != TrialKeys.FAIL_REASON}
        super().__call__(study, trial)


def retry_callback() -> optuna.storages.RetryHeartbeatStaleTrialCallback:
    """Re-queue a dead trial as a WAITING retry carrying its params, user attrs (so its
    checkpoint pointer) and learning curve, retried as often as needed."""
    return _RetryCallback(inherit_intermediate_values=True)


def open_storage(
    url: str | None = None,
    *,
    heartbeat_interval: int | None = None,
    grace_period: int | None = None,
    retrier: Retrier | None = None,
    must_exist: bool = False,
) -> optuna.storages.RDBStorage:
    """Open (and if needed create the schema of) the storage at ``url``.

    A refused connection is retried by ``retrier`` (hpo.trials._retry; the worker and `study
    create` wait HPO_DB_RETRY_TIMEOUT), else for INTERACTIVE_WAIT_S. Errors that waiting cannot
    fix (a wrong password, database or host, a read-only file) fail at once, in one line. With ``must_exist``, an SQLite file that does not exist yet is an error
    rather than created: read-only commands never leave an empty database behind.

    Raises:
        UsageError: the URL is malformed or names an unsupported database.
        HpoError: the database cannot be reached (in time), or ``must_exist`` and it does not.
    """
    url = resolve_url(url)
    parsed = _check_url(url)
    if parsed.get_backend_name() == "sqlite":
        _check_sqlite_file(url, parsed, must_exist)
    callback = retry_callback() if heartbeat_interval is not None else None
    retrier = retrier or Retrier(INTERACTIVE_WAIT_S, setting=None)
    retrier.target = describe(url)
    engine_url = parsed.render_as_string(hide_password=False)

    def connect() -> optuna.storages.RDBStorage:
        for attempt in range(SCHEMA_RACE_ATTEMPTS):
            try:
                return optuna.storages.RDBStorage(
                    engine_url,
                    engine_kwargs=_engine_kwargs(parsed),
                    heartbeat_interval=heartbeat_interval,
                    grace_period=grace_period,
                    heartbeat_stale_trial_callback=callback,
                )
            except (IntegrityError, ProgrammingError):
                # Processes that start together on an empty database (a compose stack, workers
                # waiting out an outage) all create Optuna's schema; PostgreSQL refuses the
                # losers' CREATE TYPE / CREATE TABLE. The winner's schema is there a moment later.
                if attempt == SCHEMA_RACE_ATTEMPTS - 1:
                    raise
                time.sleep(0.5 * (attempt + 1))
        raise AssertionError("unreachable")

    try:
        storage = retrier.call(connect, "open it")
    except (NoSuchModuleError, ImportError) as exc:
        # Optuna re-raises a missing driver as a bare ImportError.
        driver = parsed.get_driver_name()
        raise UsageError(
            f"storage URL {mask_url(url)!r} needs the database driver {driver!r}, which is not installed "
            f"({first_line(exc.__cause__ or exc)}); use postgresql+psycopg2://... or install it"
        ) from None
    except Exception as exc:
        if is_permanent(exc):
            raise storage_error(url, exc) from None
        raise
    if parsed.get_backend_name() == "sqlite":
        _SERIALIZED_ENGINES.add(storage.engine)
    return storage


def undo_study(name: str, storage: optuna.storages.BaseStorage) -> None:
    """Delete a study that is being made and that no worker uses yet (a create undone).

    In one transaction of bulk deletes where the storage is a database; ``optuna.delete_study``
    took 14.6 s for 20,000 slots on SQLite (hpo.trials._optuna.delete_study_rows).
    """
    backend = _optuna.rdb_backend(storage)
    if backend is None:
        optuna.delete_study(study_name=name, storage=storage)
        return
    _optuna.delete_study_rows(backend, backend.get_study_id_from_name(name))


def storage_error(url: str, exc: BaseException) -> HpoError:
    """One line for a database error that waiting cannot fix: where, and the driver's reason."""
    return HpoError(f"cannot open storage {describe(url)}: {driver_reason(exc)}; check the URL, its user, "
                    "password and database name (--storage or HPO_STORAGE)")


def _check_sqlite_file(url: str, parsed: sqlalchemy.engine.URL, must_exist: bool) -> None:
    database = parsed.database
    if database and database != ":memory:":
        folder = os.path.dirname(os.path.abspath(database))
        if not os.path.isdir(folder):
            raise HpoError(
                f"cannot open storage {url}: folder {folder} does not exist; create it or "
                "choose another path"
            )
        if must_exist and not os.path.exists(database):
            raise StorageMissing(
                f"no storage at {url} (no such file); create a study with `hpo study create`, "
                "or pass --storage / HPO_STORAGE"
            )


def load_study(name: str, storage: optuna.storages.BaseStorage) -> optuna.Study:
    """Load an existing study, or fail with a message that lists the studies there are."""
    try:
        return optuna.load_study(study_name=name, storage=storage)
    except KeyError:
        names = [s.study_name for s in optuna.get_all_study_summaries(storage=storage)]
        listed = ", ".join(names) if names else "none yet"
        raise HpoError(
            f"study {name!r} does not exist in this storage (studies: {listed}); "
            "create it with `hpo study create` or pass the right --storage"
        ) from None
