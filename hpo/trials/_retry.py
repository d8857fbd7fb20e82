"""Waiting out database outages: retry storage calls with backoff instead of dying.

Optuna's own loop raises out of ``study.optimize`` when PostgreSQL restarts (optuna #5280)
and leaves its trial RUNNING. Every storage call of a :class:`~hpo.trials.TrialQueue` and its
leases goes through one :class:`Retrier`, which waits for the database to come back, up to
``Settings.db_retry_timeout`` (``HPO_DB_RETRY_TIMEOUT``). Callers never wrap calls themselves.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import TypeVar

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, PendingRollbackError

from hpo.errors import HpoError, Interrupted
from hpo.trials._optuna import is_missing_record
from hpo.trials.storage_errors import driver_reason, is_permanent

T = TypeVar("T")
log = logging.getLogger("hpo.trials")

_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PendingRollbackError)


class StudyDeleted(HpoError):
    """The study was deleted (`hpo study delete`) under a process that was using it.

    Raised by :meth:`Retrier.call` for any storage call, so a worker meets it the same way
    inside a trial and between trials (claim, recover, progress), and stops.
    """


def is_transient(exc: BaseException) -> bool:
    """A lost connection, a server restart or a locked SQLite file; not a bad query.

    Optuna wraps SQLAlchemy errors in StorageInternalError, and a connection that died inside
    a transaction surfaces later as PendingRollbackError, so the whole cause chain is read.
    """
    if is_permanent(exc):
        return False  # a wrong password, name or file mode: waiting does not fix it
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, _TRANSIENT):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


class Retrier:
    """Runs storage calls, retrying transient errors with capped exponential backoff.

    ``stop`` (a worker's stop flag) ends a wait at once with :class:`Interrupted`: a worker
    waiting out an outage still stops on the first SIGTERM. ``target`` names the database in
    messages ("PostgreSQL at host:port"); :func:`hpo.trials.storage.open_storage` sets it.
    """

    def __init__(self, timeout: float, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic, stop: Callable[[], bool] = lambda: False,
                 target: str = "the storage", setting: str | None = "HPO_DB_RETRY_TIMEOUT") -> None:
        self.timeout = timeout
        self.setting = setting  # the variable that sets ``timeout``, named in the waiting line
        self.target = target
        self.study: str | None = None  # names the study in StudyDeleted; hpo.trials.queue sets it
        self._sleep, self._clock, self._stop = sleep, clock, stop
        self._last_error_at = float("-inf")
        self._waiting = False  # said "waiting for ..." for the current outage

    def seconds_since_last_error(self) -> float:
        """Since this process last saw the database fail (inf if never)."""
        return self._clock() - self._last_error_at

    def pause(self, seconds: float) -> None:
        """Sleep ``seconds`` in short steps, ending early with Interrupted once ``stop`` is set."""
        end = self._clock() + seconds
        while True:
            if self._stop():
                raise Interrupted(f"stopped while waiting for {self.target}")
            left = end - self._clock()
            if left <= 0:
                return
            self._sleep(min(left, 0.5))

    def call(self, fn: Callable[[], T], what: str) -> T:
        """``fn()``, retried while the database is unreachable; ``what`` names it in logs."""
        deadline = self._clock() + self.timeout
        delay = 0.5
        while True:
            try:
                result = fn()
            except Exception as exc:
                if is_missing_record(exc):  # Optuna's bare KeyError: waiting does not bring it back
                    name = f"study {self.study!r}" if self.study else "the study"
                    raise StudyDeleted(f"{name} was deleted (noticed while trying to {what})") from exc
                if not is_transient(exc):
                    raise
                self._last_error_at = self._clock()
                reason = driver_reason(exc)
                if self._clock() + delay > deadline:
                    raise HpoError(
                        f"cannot reach {self.target}: {reason} (waited {_duration(self.timeout)} to {what}); "
                        "check that the database server is running and the URL is right (--storage or "
                        "HPO_STORAGE; HPO_DB_RETRY_TIMEOUT sets how long workers wait)"
                    ) from None
                if not self._waiting:
                    self._waiting = True
                    log.warning("waiting for %s (%s); up to %s%s", self.target,
                                reason.lower() if "refused" in reason.lower() else reason,
                                _duration(self.timeout), f" ({self.setting})" if self.setting else "")
                self.pause(delay)
                delay = min(delay * 2, 10.0)
            else:
                if self._waiting:
                    log.warning("%s is back", self.target)
                    self._waiting = False
                return result


def _duration(seconds: float) -> str:
    """3600 -> '1h', 90 -> '90s', 600 -> '10min'."""
    if seconds >= 3600 and seconds % 3600 == 0:
        return f"{seconds / 3600:g}h"
    if seconds >= 60 and seconds % 60 == 0:
        return f"{seconds / 60:g}min"
    return f"{seconds:g}s"
