"""Surviving database outages: retry storage calls with backoff instead of dying.

Optuna's own loop raises out of ``study.optimize`` when PostgreSQL restarts (optuna #5280)
and leaves its trial RUNNING. The worker instead routes every storage call through
:func:`call`, which waits for the database to come back.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable
from typing import TypeVar

import optuna
from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError, PendingRollbackError

from hpo.errors import HpoError

T = TypeVar("T")
log = logging.getLogger("hpo.worker")

_TRANSIENT = (OperationalError, InterfaceError, DisconnectionError)
_last_error_at: float = float("-inf")


def is_transient(exc: BaseException) -> bool:
    """A lost connection, a server restart or a locked SQLite file; not a bad query.

    Optuna wraps SQLAlchemy errors in StorageInternalError, and a connection that died inside
    a transaction surfaces later as PendingRollbackError, so the whole cause chain is read.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if isinstance(current, (*_TRANSIENT, PendingRollbackError)):
            return True
        if isinstance(current, DBAPIError) and current.connection_invalidated:
            return True
        current = current.__cause__ or current.__context__
    return False


def seconds_since_last_error() -> float:
    return time.monotonic() - _last_error_at


def retry_timeout() -> float:
    """How long to wait for the database before giving up (HPO_DB_RETRY_TIMEOUT, default 1 h)."""
    return float(os.environ.get("HPO_DB_RETRY_TIMEOUT", "3600"))


def call(fn: Callable[[], T], what: str) -> T:
    """Run ``fn``, retrying transient database errors with capped exponential backoff."""
    global _last_error_at
    deadline = time.monotonic() + retry_timeout()
    delay = 0.5
    while True:
        try:
            return fn()
        except Exception as exc:
            if not is_transient(exc):
                raise
            _last_error_at = time.monotonic()
            if time.monotonic() + delay > deadline:
                raise HpoError(
                    f"storage unreachable for {retry_timeout():.0f}s while trying to {what}; "
                    "check the database server (HPO_DB_RETRY_TIMEOUT sets how long to wait)"
                ) from None
            log.warning("storage unavailable while trying to %s (%s); retrying in %.1fs", what, type(exc).__name__, delay)
            time.sleep(delay)
            delay = min(delay * 2, 10.0)
