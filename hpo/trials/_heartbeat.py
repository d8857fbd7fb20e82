"""A heartbeat thread that outlives database errors.

Optuna's heartbeat runs only inside ``study.optimize``, and one database error kills its
thread, after which the live trial looks stale and may be run twice. This one logs the error
and keeps beating.
"""

from __future__ import annotations

import logging
import threading
from types import TracebackType

from optuna.storages import RDBStorage

log = logging.getLogger("hpo.trials")


class Heartbeat:
    """``with Heartbeat(storage, trial_id, interval):`` keeps the trial marked alive."""

    def __init__(self, storage: RDBStorage, trial_id: int, interval: float, beat_now: bool = True) -> None:
        self._beat_now = beat_now  # False when the caller has just beaten (the claim does)
        self._storage = storage
        self._trial_id = trial_id
        self._interval = interval
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"heartbeat-{trial_id}", daemon=True)

    def _beat(self) -> None:
        try:
            self._storage.record_heartbeat(self._trial_id)
        except Exception as exc:  # any error: the next beat tries again
            log.warning("heartbeat for trial id %d failed (%s); will retry", self._trial_id, type(exc).__name__)

    def _run(self) -> None:
        while not self._stop.wait(self._interval):
            self._beat()

    def __enter__(self) -> Heartbeat:
        if self._beat_now:
            self._beat()
        self._thread.start()
        return self

    def stop(self) -> None:
        """Stop beating, and wait for a beat in flight; safe to call more than once."""
        self._stop.set()
        if self._thread.is_alive():
            self._thread.join(timeout=5)

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()
