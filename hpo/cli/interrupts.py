"""Deferring Ctrl-C and SIGTERM while a command makes something that must be whole or absent."""

from __future__ import annotations

import signal
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


@contextmanager
def deferred_interrupts(until_exit: bool = False) -> Iterator[Callable[[], bool]]:
    """Inside the block, SIGINT and SIGTERM only set a flag; yields a function that reads it.

    A KeyboardInterrupt raised wherever the signal lands (inside a database driver, a
    ``finally``) can be swallowed or leave half a write; a flag checked between steps cannot.

    ``until_exit``: after the block, ignore both signals instead of restoring their handlers,
    for a command whose work is done once the block ends and which only prints its result:
    a Ctrl-C that lands while it prints must not turn a committed result into exit code 130.
    """
    received: list[int] = []

    def note(signum: int, _frame: FrameType | None) -> None:
        received.append(signum)

    previous = {sig: signal.signal(sig, note) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield lambda: bool(received)
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, signal.SIG_IGN if until_exit else handler)
