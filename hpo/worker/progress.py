"""Per-epoch progress of a trial: a live line on a terminal, plain log lines otherwise.

The worker's epoch callback calls :meth:`TrialProgress.epoch` after each epoch and
:meth:`TrialProgress.close` when the trial ends (complete, pruned or failed)::

    progress = TrialProgress(worker_id, trial.number, epochs, first_epoch=resumed_epoch + 1)
    ...
    progress.epoch(epoch, train_loss, "val_accuracy", value)   # each epoch
    ...
    progress.close()                                             # before logging the outcome

On a terminal (stderr is a TTY and TERM is not "dumb") the line is rewritten in place, so a
worker shows one live line per trial; in containers and log files every epoch is one log line.
"""

from __future__ import annotations

import logging
import math
import os
import sys
import time
from collections.abc import Callable
from typing import TextIO

from hpo.formatting import format_duration

log = logging.getLogger("hpo.worker")


def is_live(stream: TextIO) -> bool:
    """Whether ``stream`` is a terminal that can redraw a line."""
    return stream.isatty() and os.environ.get("TERM", "") != "dumb"


class TrialProgress:
    """Progress of one trial of ``epochs`` epochs, starting (after a resume) at ``first_epoch``."""

    def __init__(self, worker_id: str, trial_number: int, epochs: int, *, first_epoch: int = 1,
                 stream: TextIO | None = None, clock: Callable[[], float] = time.monotonic,
                 ends: float | None = None) -> None:
        self.worker_id, self.trial_number, self.epochs = worker_id, trial_number, epochs
        # A timed run (the final run) ends at this Unix time; its epochs are an estimate.
        self.ends = ends
        self.first_epoch = first_epoch
        self.stream = stream if stream is not None else sys.stderr
        self.live = is_live(self.stream)
        self.clock = clock
        self.started = clock()
        self._drawn = False

    def seconds_per_epoch(self, epoch: int) -> float:
        """The mean wall time of the epochs this attempt has run, up to ``epoch`` (NaN: none)."""
        done = epoch - self.first_epoch + 1
        return (self.clock() - self.started) / done if done > 0 else math.nan

    def eta(self, epoch: int) -> float:
        """Seconds until the last epoch, at the mean pace of the epochs run by this attempt."""
        if self.ends is not None:
            return max(0.0, self.ends - time.time())
        return self.seconds_per_epoch(epoch) * (self.epochs - epoch)

    def line(self, epoch: int, loss: float, metric: str, value: float | None) -> str:
        shown = f"{value:.4f}" if value is not None and math.isfinite(value) else "n/a"
        total = f"~{max(self.epochs, epoch)}" if self.ends is not None else str(self.epochs)
        return (f"[{self.worker_id}] trial {self.trial_number} epoch {epoch}/{total} loss {loss:.4f} "
                f"{metric} {shown} elapsed {format_duration(self.clock() - self.started)} "
                f"ETA {format_duration(self.eta(epoch))}")

    def epoch(self, epoch: int, loss: float, metric: str, value: float | None) -> None:
        """Show the progress after ``epoch``: redraw the live line, or log one line."""
        text = self.line(epoch, loss, metric, value)
        if self.live:
            # \r and "erase to end of line" redraw in place; no newline until close().
            self.stream.write(f"\r\033[K{text}")
            self.stream.flush()
            self._drawn = True
        else:
            log.info("%s", text)

    def close(self) -> None:
        """End the live line, so the next log line starts on a line of its own."""
        if self._drawn:
            self.stream.write("\n")
            self.stream.flush()
            self._drawn = False
