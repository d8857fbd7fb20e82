"""User-facing errors.

Every expected failure is raised as an :class:`HpoError`. The CLI prints its message as one
line and exits with its ``exit_code``: 2 for usage errors (bad names, bad values), 1 for
everything else (a server that cannot be reached, a study that does not exist, ...).
"""

from __future__ import annotations

from collections.abc import Iterable


class HpoError(Exception):
    """An expected failure whose message says what is wrong and what to do."""

    exit_code = 1


class UsageError(HpoError):
    """The user asked for something that does not exist or is out of range."""

    exit_code = 2


def unknown_name(kind: str, name: str, choices: Iterable[str]) -> UsageError:
    """Build the error for an unknown registry key, listing the valid choices."""
    listed = ", ".join(sorted(choices)) or "(none registered)"
    return UsageError(f"unknown {kind} {name!r}; choose one of: {listed}")


class Interrupted(HpoError):
    """Ctrl-C or SIGTERM during a command that then undid what it had begun."""

    exit_code = 130  # the shell's convention for SIGINT


def first_line(exc: BaseException | str) -> str:
    """The first non-empty line of an exception message, for one-line errors."""
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__
