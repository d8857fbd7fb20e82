"""A lease: one claimed trial, held by one worker until it finishes or hands it back.

Everything a worker does to its trial goes through the lease: sample params, report an
epoch, ask the pruner, record attributes, finish. Each call waits out database outages (the
handle's Retrier). While the lease is entered (``with lease:``) a heartbeat thread keeps the
trial alive; one that stops beating is judged stale by other workers, failed and re-queued.

If another worker has meanwhile finished the trial (it judged ours stale after a long
outage and queued a retry), a write raises :class:`LeaseLost`: the retry owns the trial now
and resumes from our last checkpoint, so this attempt just stops.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from types import TracebackType
from typing import Any, TypeVar

import optuna
from optuna.trial import TrialState

from hpo import artifacts
from hpo.trials import _optuna
from hpo.trials._heartbeat import Heartbeat
from hpo.trials._retry import StudyDeleted
from hpo.trials.budget import original_number
from hpo.trials.handle import StorageHandle
from hpo.trials.identity import WorkerIdentity
from hpo.trials.promotion import PAUSED_KEY
from hpo.trials.records import TrialKeys

T = TypeVar("T")
log = logging.getLogger("hpo.trials")


class LeaseLost(Exception):
    """The trial was finished by someone else (a retry took it over); this attempt must stop."""


class Lease:
    """One RUNNING trial, held by ``identity``; written through ``store`` (made by the queue).

    ``epochs`` is the study's; ``heartbeat_interval`` its seconds between beats.
    """

    def __init__(self, store: StorageHandle, trial: optuna.Trial, identity: WorkerIdentity, *, epochs: int,
                 heartbeat_interval: float, ending: bool = False) -> None:
        self._store, self.trial, self.identity = store, trial, identity
        self._study_epochs = epochs
        # Claimed after the deadline only to end it with what it reached: no more training.
        self.ending = ending
        self._heartbeat = Heartbeat(store.backend, _optuna.trial_id(trial), heartbeat_interval,
                                    beat_now=False)  # the claim has just beaten

    # --- what the trial is -------------------------------------------------------------

    @property
    def number(self) -> int:
        return self.trial.number

    @property
    def original_number(self) -> int:
        """The first attempt's number: a retry trains exactly what the first attempt did."""
        return original_number(_optuna.frozen_trial_of(self.trial))

    @property
    def user_attrs(self) -> dict[str, Any]:
        return self.trial.user_attrs

    @property
    def is_final_run(self) -> bool:
        """The study's final run (hpo.trials.final_run): trained long, never paused or pruned."""
        return self.trial.user_attrs.get(TrialKeys.FINAL_EPOCHS) is not None

    @property
    def epochs(self) -> int:
        """How many epochs this trial trains: the study's, or the final run's own."""
        return int(self.trial.user_attrs.get(TrialKeys.FINAL_EPOCHS) or self._study_epochs)

    # --- while it runs -----------------------------------------------------------------

    def __enter__(self) -> Lease:
        self._heartbeat.__enter__()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self._heartbeat.__exit__(exc_type, exc, tb)

    def suggest(self, sample: Callable[[optuna.Trial], T]) -> T:
        """``sample(trial)``: the search space's suggestions, which read the sampler's history."""
        return self._retry(lambda: sample(self.trial), "sample parameters")

    def report(self, value: float, epoch: int) -> None:
        """The epoch's value for the pruner. A repeated epoch (a retry that trains again from
        scratch) is skipped: Optuna would ignore it, with a warning each."""
        if epoch in _optuna.frozen_trial_of(self.trial).intermediate_values:
            return
        self._guarded(lambda: self.trial.report(float(value), epoch), "report an epoch")

    def should_prune(self) -> bool:
        return self._retry(self.trial.should_prune, "ask the pruner")

    def curve(self) -> dict[int, float]:
        """The values reported so far, by epoch, read back from the storage."""
        tid = _optuna.trial_id(self.trial)
        return dict(self._retry(lambda: self._store.backend.get_trial(tid), "read a trial").intermediate_values)

    def record(self, attrs: Mapping[str, Any]) -> None:
        """Set user attrs, all in one commit (readers never see half of them)."""
        self._guarded(lambda: _optuna.set_user_attrs(self.trial, attrs), "record " + ", ".join(attrs))

    def attach_file(self, store: Any, path: str) -> str:
        """Upload ``path`` to the artifact store, linked to this trial (the dashboard lists it)."""
        return self._guarded(lambda: artifacts.upload_file(store, path, self.trial), "store " + path.rsplit("/", 1)[-1])

    def store_file(self, store: Any, path: str) -> str:
        """Upload ``path`` unlisted (no dashboard metadata): for files deleted later, such as
        checkpoints, whose listing a finished trial could no longer remove."""
        return self._retry(lambda: artifacts.store_unlisted(store, path), "store " + path.rsplit("/", 1)[-1])

    # --- how it ends -------------------------------------------------------------------

    def complete(self, values: Sequence[float]) -> None:
        self._tell(TrialState.COMPLETE, list(values))

    def prune(self, reason: str | None = None) -> None:
        """Pruned; a ``reason`` (e.g. a NaN loss) is kept, so the sampler learns the region is bad."""
        self._note_reason(reason)
        self._tell(TrialState.PRUNED)

    def fail(self, reason: str) -> None:
        self._note_reason(reason)
        self._tell(TrialState.FAIL)

    def pause(self, epoch: int) -> None:
        """Wait at rung ``epoch`` for a promotion (hpo.trials.promotion): WAITING again, marked
        paused, and resumable by any worker from the checkpoint the caller has just saved."""
        self.record({PAUSED_KEY: epoch})
        self._heartbeat.stop()  # a late beat would give the WAITING trial a heartbeat row
        tid = _optuna.trial_id(self.trial)
        if not self._retry(lambda: _optuna.pause_running_trial(self._store.backend, tid), "pause a trial"):
            raise LeaseLost(f"trial {self.number} was finished by another worker")

    def hand_back(self, reason: str) -> None:
        """Fail this attempt and queue a retry that resumes from its last checkpoint."""
        self._note_reason(reason)
        self._tell(TrialState.FAIL)
        self._store.requeue(self.number)

    # --- internals ---------------------------------------------------------------------

    def _note_reason(self, reason: str | None) -> None:
        if reason:
            try:
                self.record({TrialKeys.FAIL_REASON: reason})
            except LeaseLost:
                pass  # finished by a retry meanwhile: the tell below is a no-op too

    def _retry(self, fn: Callable[[], T], what: str) -> T:
        try:
            return self._store.retrier.call(fn, what)
        except StudyDeleted as exc:  # the trial's row is gone with its study: say which trial it cut short
            raise StudyDeleted(f"study {self._store.study.study_name!r} was deleted while trial {self.number} ran") from exc

    def _guarded(self, fn: Callable[[], T], what: str) -> T:
        try:
            return self._retry(fn, what)
        except optuna.exceptions.UpdateFinishedTrialError as exc:
            raise LeaseLost(f"trial {self.number} was finished by another worker") from exc

    def _tell(self, state: TrialState, values: list[float] | None = None) -> None:
        def tell() -> None:
            try:
                self._store.study.tell(self.trial, values, state=state, skip_if_finished=False)
            except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
                # Finished already: a retried tell whose first attempt committed before the
                # connection dropped, or a trial another worker judged stale and re-queued.
                if not self._finished():
                    raise

        self._retry(tell, "tell a result")

    def _finished(self) -> bool:
        frozen = self._store.backend.get_trial(_optuna.trial_id(self.trial))
        return frozen.state.is_finished()
