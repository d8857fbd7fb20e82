"""Graceful stop: the first SIGTERM/SIGINT asks the worker to stop at the next epoch boundary.

A second signal restores the default behaviour, so a second Ctrl-C stops at once.
"""

from __future__ import annotations

import logging
import signal
import threading
from types import FrameType

log = logging.getLogger("hpo.worker")


class StopRequested(Exception):
    """Raised at an epoch boundary after a stop signal; the trial is handed back."""


class PauseAtRung(Exception):
    """Raised at a rung whose trial is not the one to promote now: it pauses, checkpointed."""

    def __init__(self, epoch: int) -> None:
        super().__init__(f"paused at epoch {epoch}")
        self.epoch = epoch


class FinalRunDue(Exception):
    """Raised at an epoch boundary of a search trial once the study's final run is due and
    unstarted: the trial is handed back, and this worker starts the final run."""


class DeadlineReached(Exception):
    """Raised at the first epoch boundary after the study's time budget ran out; carries the
    training result so far, which the trial keeps."""

    def __init__(self, result: object) -> None:
        super().__init__("the study's time budget ran out")
        self.result = result


class StopFlag:
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
