"""Graceful stop: the first SIGTERM/SIGINT asks the worker to stop at the next epoch boundary.

A second signal restores the default behaviour, so a second Ctrl-C stops at once. The flag
is one input of the scheduler's decision (hpo.trials.scheduling: a stop hands the trial back).
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger("hpo.worker")


class StopFlag:
    """Set by the first SIGTERM/SIGINT; read at each epoch boundary."""

    def __init__(self) -> None:
        self._event = threading.Event()

    @property
    def is_set(self) -> bool:
        return self._event.is_set()

    def set(self) -> None:
        self._event.set()

    def install(self) -> None:
        """Route SIGTERM and SIGINT to this flag (main thread only)."""
        for sig in (signal.SIGTERM, signal.SIGINT):
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, _frame: FrameType | None) -> None:
        log.warning("received %s: stopping (a running trial is handed back at its next epoch boundary)",
                    signal.Signals(signum).name)
        self._event.set()
        signal.signal(signum, signal.SIG_DFL)
