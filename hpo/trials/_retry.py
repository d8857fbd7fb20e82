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

from hpo.errors import HpoError

T = TypeVar("T")
log = logging.getLogger("hpo.trials")

_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError, PendingRollbackError)


def is_transient(exc: BaseException) -> bool:
    """A lost connection, a server restart or a locked SQLite file; not a bad query.

    Optuna wraps SQLAlchemy errors in StorageInternalError, and a connection that died inside
    a transaction surfaces later as PendingRollbackError, so the whole cause chain is read.
    """
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
    """Runs storage calls, retrying transient errors with capped exponential backoff."""

    def __init__(self, timeout: float, *, sleep: Callable[[float], None] = time.sleep,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.timeout = timeout
        self._sleep, self._clock = sleep, clock
        self._last_error_at = float("-inf")

    def seconds_since_last_error(self) -> float:
        """Since this process last saw the database fail (inf if never)."""
        return self._clock() - self._last_error_at

    def call(self, fn: Callable[[], T], what: str) -> T:
        """``fn()``, retried while the database is unreachable; ``what`` names it in logs."""
        deadline = self._clock() + self.timeout
        delay = 0.5
        while True:
            try:
                return fn()
            except Exception as exc:
                if not is_transient(exc):
                    raise
                self._last_error_at = self._clock()
                if self._clock() + delay > deadline:
                    raise HpoError(
                        f"storage unreachable for {self.timeout:.0f}s while trying to {what}; "
                        "check the database server (HPO_DB_RETRY_TIMEOUT sets how long to wait)"
                    ) from None
                log.warning("storage unavailable while trying to %s (%s); retrying in %.1fs",
                            what, type(exc).__name__, delay)
                self._sleep(delay)
                delay = min(delay * 2, 10.0)
