"""What a database error means: an outage to wait out, or a mistake to report at once.

A refused connection, a server that is starting or shutting down, a dropped connection or
a locked SQLite file pass: waiting helps. A wrong password or user, a database or host that
does not exist, a read-only SQLite file do not: waiting an hour on a typo helps nobody. The
drivers say which only in their messages (psycopg2 sets no SQLSTATE for connection
failures), so the message is read.
"""

from __future__ import annotations

import re

from sqlalchemy.exc import DBAPIError

# Driver messages that no amount of waiting changes (lower case).
_PERMANENT = (
    "password authentication failed",
    "authentication failed",
    "no password supplied",
    "role \"",  # role "x" does not exist
    "does not exist",  # database "x" does not exist
    "could not translate host name",
    "name or service not known",
    "no pg_hba.conf entry",
    "attempt to write a readonly database",
    "readonly database",
    "unable to open database file",
    "permission denied",
)
# psycopg2 puts the address in front of the reason: 'connection to server at "h", port 1 failed: '.
_ADDRESS_PREFIX = re.compile(r'^connection to server (?:at|on) .*? failed:\s*', re.IGNORECASE)


def _chain(exc: BaseException) -> list[BaseException]:
    seen: list[BaseException] = []
    current: BaseException | None = exc
    while current is not None and all(current is not s for s in seen):
        seen.append(current)
        current = current.__cause__ or current.__context__
    return seen


def driver_reason(exc: BaseException) -> str:
    """The driver's own reason, one line without SQLAlchemy's wrapping or the address:
    'Connection refused', 'database "x" does not exist', 'attempt to write a readonly database'."""
    for current in _chain(exc):
        if isinstance(current, DBAPIError) and current.orig is not None:
            return _clean(str(current.orig))
    return _clean(str(exc)) or type(exc).__name__


def _clean(text: str) -> str:
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = re.sub(r"^\(\S+\)\s*", "", line)  # SQLAlchemy's "(psycopg2.OperationalError) "
    line = _ADDRESS_PREFIX.sub("", line)
    return re.sub(r"^FATAL:\s+", "", line)


def is_permanent(exc: BaseException) -> bool:
    """A database error that waiting cannot fix: wrong credentials, name, host or file mode."""
    for current in _chain(exc):
        if isinstance(current, DBAPIError):
            text = str(current.orig if current.orig is not None else current).lower()
            return any(p in text for p in _PERMANENT)
    return False


def is_refused(exc: BaseException) -> bool:
    """Nothing listens at the address (yet): the server is down or starting."""
    return "connection refused" in driver_reason(exc).lower()
