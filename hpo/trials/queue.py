"""A study's trials as a work queue: the one owner of the storage a worker talks to.

    queue = TrialQueue.open("fm", settings.storage_url, Retrier(settings.db_retry_timeout))
    queue.attach(sampler)                  # the pruner is the scheduler's (hpo.trials.scheduling)
    while (lease := queue.claim(identity)) is not None:
        with lease:                        # heartbeats while training
            params = lease.suggest(space.suggest)
            ...
            lease.report(value, epoch)     # each epoch, then
            queue.scheduler.decide(EpochEnd(...), queue.view(lease))   # a Decision
            lease.complete(values)         # or prune / pause / fail / hand_back

The queue is the scheduler's backend: :meth:`claim` looks where ``scheduler.sources()`` says,
in that order, and :meth:`view` is what the scheduler reads while deciding.

Every method waits out a database outage through the queue's :class:`Retrier` (up to
``HPO_DB_RETRY_TIMEOUT``), start-up included: callers never wrap storage calls. The queue
holds one RDBStorage; the Study on it (and so Optuna's trial cache) is the only other handle,
and claims register themselves in that cache (hpo.trials._optuna).

Admission is exact: the study holds exactly ``budget`` WAITING slots (hpo.trials.slots) and
:meth:`claim` only ever flips an existing one to RUNNING, with its first heartbeat, in one
transaction. Unlike ``study.ask()``, it never creates a trial, so N workers cannot overshoot.
"""

from __future__ import annotations

import dataclasses
import datetime
import logging
import time

import optuna
from optuna.trial import TrialState

from hpo.config import MARKER, StudyConfig
from hpo.errors import HpoError
from hpo.trials import _optuna
from hpo.trials._retry import Retrier
from hpo.trials.budget import Progress, logical_trials, mark_claimed, progress
from hpo.trials.history import HISTORIES
from hpo.trials.handle import StorageHandle
from hpo.trials.promotion import PAUSED_KEY, RungRecord
from hpo.trials.records import TrialKeys
from hpo.trials.scheduling import Scheduler, Source, make_scheduler
from hpo.trials.final_phase import FinalPhase
from hpo.trials.slots import add_slot, replace_taken_slots
from hpo.trials.identity import WorkerIdentity
from hpo.trials.lease import Lease
from hpo.trials.inspect import stale_trial_numbers
from hpo.trials.storage import load_study, open_storage, retry_callback

log = logging.getLogger("hpo.trials")

# Candidates fetched per claim: enough that concurrent workers racing for the first ones
# still find a free one, few enough that a 10,000-trial budget is not read on every claim.
CANDIDATES = 32
SLOT_ATTEMPTS = 5  # a time budget alone: slots added before giving up (others took each one first)
STUDY_POLL_S = 2.0
DEADLINE_KEY = "deadline_utc"  # study user attr: when the time budget runs out, ISO 8601
PLAIN_STUDY_GRACE_S = 3.0  # a study without hpo's config this long was not made by hpo


class TrialQueue:
    """One study's trials: claim, recover, count. Made by :meth:`open`."""

    def __init__(self, study: optuna.Study, backend: optuna.storages.RDBStorage, config: StudyConfig,
                 retrier: Retrier, scheduler: Scheduler | None = None) -> None:
        self.study, self.config, self.retrier = study, config, retrier
        retrier.study = study.study_name  # a call that finds the study gone raises StudyDeleted naming it
        self._backend = backend
        self._store = StorageHandle(study, backend, retrier)  # all a lease may reach
        self._deadline: datetime.datetime | None = None
        # The study's policy (its --pruner, under its time budget): what runs next, and when
        # a running trial stops, pauses or is handed back.
        self.scheduler = scheduler or make_scheduler(config)
        self._maximize = config.directions[0] == "maximize"
        # The study's final run (hpo.trials.final_run): who starts it, and where it runs.
        self.final = FinalPhase(config, study, backend, retrier, maximize=self._maximize,
                                deadline=lambda: self.deadline, live_trials=self._live_trials, lease=self._lease)
        # Heartbeat settings are the study's, known only once it is read: give them to the
        # same storage rather than open a second one.
        _optuna.enable_heartbeat(backend, config.heartbeat_interval, config.grace_period, retry_callback())

    @classmethod
    def open(cls, study_name: str, storage_url: str, retrier: Retrier, *, wait_for_study: float = 0.0,
             must_exist: bool = False) -> TrialQueue:
        """Open the storage and load an hpo study, waiting out outages.

        ``wait_for_study`` seconds are granted for the study to appear (containers that start
        together with its creator). A study not made by hpo fails at once.
        """
        deadline = time.monotonic() + wait_for_study
        backend = open_storage(storage_url, retrier=retrier, must_exist=must_exist)
        plain_since: float | None = None
        while True:
            problem: HpoError | None = None
            try:
                study = retrier.call(lambda: load_study(study_name, backend), "load the study")
            except HpoError as exc:
                if "does not exist" not in str(exc):
                    raise  # the database stayed unreachable for the whole retry timeout
                problem = exc
            else:
                attrs = study.user_attrs
                if MARKER in attrs:
                    return cls(study, backend, StudyConfig.from_user_attrs(attrs, study_name), retrier)
                if "space" in attrs or "creating_since" in attrs:  # hpo.studies.unfinished
                    problem = HpoError(
                        f"study {study_name!r} is unfinished: its `hpo study create` is still running or was "
                        f"killed; if none is running, delete it with `hpo study delete {study_name} --yes`, "
                        "or re-run the create with --if-exists skip, which replaces it")
                else:
                    # No hpo config at all: a plain Optuna study, unless `study create` has made
                    # it this very moment and not yet written its config (milliseconds).
                    plain_since = plain_since or time.monotonic()
                    if time.monotonic() - plain_since >= PLAIN_STUDY_GRACE_S:
                        StudyConfig.from_user_attrs(attrs, study_name)  # raises "not created by hpo"
            if problem is not None and time.monotonic() >= deadline:
                raise problem
            if problem is not None:
                log.info("waiting for study %r: %s", study_name, problem)
            retrier.pause(STUDY_POLL_S if problem is not None else 0.5)  # a stop signal ends the wait

    @property
    def name(self) -> str:
        return self.study.study_name

    def attach(self, sampler: optuna.samplers.BaseSampler) -> None:
        """The sampler this worker's leases suggest with; they prune with the scheduler's pruner."""
        self.study.sampler, self.study.pruner = sampler, self.scheduler.optuna_pruner()

    def view(self, lease: Lease) -> _LeaseView:
        """What the scheduler reads while deciding about ``lease``'s trial."""
        return _LeaseView(self, lease)

    def claim(self, identity: WorkerIdentity, *, standby: bool = False) -> Lease | None:
        """The next trial for ``identity``, now RUNNING and leased to it; None when none is due.

        Nothing once the time budget is spent; else the first trial found where the
        scheduler's sources say, in order: the study's final run (due, and nobody started it),
        a paused trial to promote, the oldest fresh slot, a new slot (a time budget alone); with
        a trial budget whose search has ended early, the final run.
        ``standby``: a final run holds this worker's lane; only the run's own retry is taken.
        """
        if self.time_up():
            return None
        self._start_clock()
        if standby:
            return self.final.claim_retry(identity)
        for source in self.scheduler.sources():
            if source is not Source.FINAL_RUN and self.final.on_lane(identity.lane):
                return None  # another worker just started the final run here: stand by (no reads before it is due)
            lease = self._claim_from(source, identity)
            if lease is not None:
                return lease
        budget = self.config.budget
        if budget is not None and self.retrier.call(
                lambda: replace_taken_slots(self.study, self._backend, budget), "give back taken slots"):
            # A plain study.ask() took a slot and finished: its replacement is claimable now.
            candidate = self._claim_slot()
            if candidate is not None:
                return self._lease(candidate, identity)
        # A trial budget's search may end before the final phase's share of the time: the run
        # then starts with all the time left, rather than the study ending with it unspent.
        return self.final.start_after_search(identity)

    def _claim_from(self, source: Source, identity: WorkerIdentity) -> Lease | None:
        if source is Source.FINAL_RUN:
            return self.final.start(identity)
        if source is Source.PROMOTED:
            return self._promote(identity)
        if source is Source.OLDEST_SLOT:
            candidate = self._claim_slot()
        else:  # Source.NEW_SLOT
            candidate, sid = None, _optuna.study_id(self.study)
            for _ in range(SLOT_ATTEMPTS):
                # A new slot, claimed at once. The one just added first: another worker
                # takes it only in the moment between (its oldest-slot claim); then any
                # waiting slot, else add another, as that worker will have done. (Claiming
                # only the oldest let three PostgreSQL workers claiming at once starve one
                # for all its attempts.)
                if candidate is not None or self.time_up():
                    break
                added = self.retrier.call(lambda: add_slot(self._backend, sid), "add a trial slot")
                candidate = self._claim_slot(only=added)
                if candidate is None:
                    candidate = self._claim_slot()
        return None if candidate is None else self._lease(candidate, identity)

    def _claim_slot(self, only: int | None = None) -> int | None:
        """The oldest WAITING slot that is not paused (fresh, or a retry), now RUNNING.

        ``only``: that slot (by id) or nothing.
        """
        beat, sid, end = _optuna.heartbeat_enabled(self._backend), _optuna.study_id(self.study), self.deadline
        ids = None if only is None else [only]
        return self.retrier.call(
            lambda: _optuna.claim_waiting_trial(self._backend, sid, CANDIDATES, beat, only_ids=ids,
                                                skip_marked=PAUSED_KEY, not_after=end),
            "claim a trial")

    def _promote(self, identity: WorkerIdentity) -> Lease | None:
        """The most deserving paused trial the scheduler promotes, now RUNNING again."""
        order = self._promotable_ids()
        if not order:
            return None
        beat, sid, end = _optuna.heartbeat_enabled(self._backend), _optuna.study_id(self.study), self.deadline
        candidate = self.retrier.call(
            lambda: _optuna.claim_waiting_trial(self._backend, sid, CANDIDATES, beat, only_ids=order, not_after=end),
            "promote a trial")
        if candidate is None:
            return None
        lease = self._lease(candidate, identity)
        log.info("[%s] trial %d promoted past epoch %s", identity.name, lease.number, lease.user_attrs.get(PAUSED_KEY))
        lease.record({PAUSED_KEY: None})  # running again: no longer waiting for a promotion
        return lease

    def claim_to_end(self, identity: WorkerIdentity) -> Lease | None:
        """Once the time is up: a waiting trial that has trained (paused at a rung, or the
        retry of a handed-back or dead attempt), leased only to end it with what it reached.

        The worker completes it from its checkpoint without training another epoch, so its
        model is stored and export can pick it; None when there is none (or time is left).
        """
        if not self.time_up():
            return None
        sid = _optuna.study_id(self.study)
        ids = self.retrier.call(lambda: _optuna.started_waiting_trial_ids(self._backend, sid), "list started trials")
        if not ids:
            return None
        beat = _optuna.heartbeat_enabled(self._backend)
        candidate = self.retrier.call(
            lambda: _optuna.claim_waiting_trial(self._backend, sid, CANDIDATES, beat, only_ids=ids),
            "claim a trial to end")
        if candidate is None:
            return None  # another worker took them meanwhile
        lease = self._lease(candidate, identity, ending=True)
        lease.record({PAUSED_KEY: None, TrialKeys.ENDED_AT_DEADLINE: True})
        return lease

    def _lease(self, candidate: int, identity: WorkerIdentity, ending: bool = False) -> Lease:
        # Building the Trial reads it and samples the relative (multivariate) params; nothing
        # is written through the cache before it is registered just after.
        trial = self.retrier.call(lambda: optuna.Trial(self.study, candidate), "start a trial")
        _optuna.register_claimed_trial(self.study, trial)
        # Mark it hpo's: a plain study.ask() never counts against the budget (hpo.trials.budget).
        self.retrier.call(lambda: mark_claimed(trial), "mark the claim")
        return Lease(self._store, trial, identity, epochs=self.config.epochs,
                     heartbeat_interval=self.config.heartbeat_interval, ending=ending)

    # --- the final run (hpo.trials.final_phase) ---------------------------------------------

    def final_run_waiting(self, lane: str) -> bool:
        """``lane``'s final run is due, can be sized, and nobody has started it yet."""
        return self.final.waiting(lane)

    def final_run_on_lane(self, lane: str) -> bool:
        """A final run started on ``lane`` (a host's cores, or one GPU): its other workers stand by."""
        return self.final.on_lane(lane)

    # --- the promotion scheduler ---------------------------------------------------------

    def retire_paused(self) -> int:
        """End every paused trial as pruned (no promotion is coming); returns how many.

        For when nothing runs and nothing is promotable any more.
        """
        sid = _optuna.study_id(self.study)
        return self._retire(self.retrier.call(
            lambda: _optuna.marked_waiting_trial_ids(self._backend, sid, PAUSED_KEY), "list paused trials"))

    def _retire(self, ids: list[int]) -> int:
        """Claim each trial first, so two workers retiring at once never end one twice."""
        sid = _optuna.study_id(self.study)
        retired = 0
        for tid in ids:
            got = self.retrier.call(lambda: _optuna.claim_waiting_trial(self._backend, sid, 1, False, only_ids=[tid]),
                                    "retire a waiting trial")
            if got is None:
                continue  # promoted or retired by another worker meanwhile
            trial = self.retrier.call(lambda: optuna.Trial(self.study, tid), "read a waiting trial")
            _optuna.register_claimed_trial(self.study, trial)
            self.retrier.call(lambda: self.study.tell(trial, state=TrialState.PRUNED), "retire a waiting trial")
            retired += 1
        return retired

    def promotable_now(self) -> bool:
        return Source.PROMOTED in self.scheduler.sources() and bool(self._promotable_ids())

    def _live_trials(self) -> list[optuna.trial.FrozenTrial]:
        """Every trial that has reported an epoch and is not failed: running, paused or
        finished; a failed attempt and its retry share a learning curve, so the retry only."""
        sid = _optuna.study_id(self.study)

        def read() -> list[optuna.trial.FrozenTrial]:
            seen = HISTORIES.trials(self.study) or []
            paused_ids = set(_optuna.marked_waiting_trial_ids(self._backend, sid, PAUSED_KEY))
            paused = _optuna.read_trials(self._backend, sid, (TrialState.WAITING,), paused_ids,
                                         max(paused_ids)) if paused_ids else []
            return [t for t in logical_trials(seen + paused) if t.state != TrialState.FAIL and t.intermediate_values]

        return self.retrier.call(read, "read the trials that trained")

    def rung_records(self) -> list[RungRecord]:
        """Every live trial's values, paused ones marked with their rung; the final run left out."""
        return self._rung_records()[0]

    def _rung_records(self) -> tuple[list[RungRecord], dict[int, int]]:
        """Every live trial's rung values, and the database ids of the paused ones by number.

        The final run is left out: its epochs run on a longer schedule than the rungs'.
        """
        live = [t for t in self._live_trials() if t.user_attrs.get(TrialKeys.FINAL_EPOCHS) is None]
        records = [RungRecord(t.number, dict(t.intermediate_values),
                              t.user_attrs.get(PAUSED_KEY) if t.state == TrialState.WAITING else None)
                   for t in live]
        paused = {t.number: _optuna.trial_id(t) for t in live
                  if t.state == TrialState.WAITING and t.user_attrs.get(PAUSED_KEY) is not None}
        return records, paused

    def _promotable_ids(self) -> list[int]:
        records, ids = self._rung_records()
        return [ids[n] for n in self.scheduler.promotions(records) if n in ids]

    # --- the time budget -----------------------------------------------------------------

    @property
    def deadline(self) -> datetime.datetime | None:
        """When the study's time budget runs out (UTC); None before its first claim or without one."""
        if self.config.time_budget_s is None:
            return None
        if self._deadline is None:
            raw = self.retrier.call(lambda: self.study.user_attrs.get(DEADLINE_KEY), "read the deadline")
            self._deadline = datetime.datetime.fromisoformat(raw) if raw else None
        return self._deadline

    def time_up(self) -> bool:
        deadline = self.deadline
        return deadline is not None and datetime.datetime.now(datetime.timezone.utc) >= deadline

    def _start_clock(self) -> None:
        """The first claim of the study starts its time budget; all workers share the deadline."""
        if self.config.time_budget_s is None or self.deadline is not None:
            return
        deadline = datetime.datetime.now(datetime.timezone.utc) + datetime.timedelta(seconds=self.config.time_budget_s)
        # Two workers starting together may both write it, milliseconds apart: harmless.
        self.retrier.call(lambda: self.study.set_user_attr(DEADLINE_KEY, deadline.isoformat()), "start the clock")
        self._deadline = deadline

    def recover_stale(self) -> list[int]:
        """Fail and re-queue trials whose worker stopped beating; returns their numbers.

        Skipped right after our own database errors: after an outage every heartbeat looks
        old, and the owners need a grace period to beat again before they are judged dead.
        """
        if self.retrier.seconds_since_last_error() < self.config.grace_period:
            return []

        def recover() -> list[int]:
            stale = self.stale_numbers()
            if stale:
                optuna.storages.fail_stale_trials(self.study)
            return stale

        return self.retrier.call(recover, "recover stale trials")

    def stale_numbers(self) -> list[int]:
        """Numbers of RUNNING trials whose heartbeat is older than the grace period."""

        def read() -> list[int]:
            return stale_trial_numbers(self.study, self._backend)

        return self.retrier.call(read, "read heartbeats")

    def progress(self) -> Progress:
        """Logical trials against the budget (retried attempts count once); a final run that is
        started but whose trial is not there yet counts as running."""
        time_up = self.time_up()

        def read() -> Progress:
            trials = self.study.get_trials(deepcopy=False)
            # The runs' attrs are read after the trials: a run's worker writes its attr before
            # it adds its trial, so a run missing from ``trials`` is one of these. Past the
            # deadline none is counted: no run starts then, and one whose worker died between
            # the two writes must not keep the others waiting for ever.
            starting = 0 if time_up else self.final.starting(trials)
            counted = progress(self.study, self.config.budget, time_up, trials=trials)
            return dataclasses.replace(counted, running=counted.running + starting)

        return self.retrier.call(read, "read progress")


class _LeaseView:
    """The scheduler's :class:`~hpo.trials.scheduling.StudyView` of one leased trial; each
    method reads the database only when the scheduler asks it."""

    def __init__(self, queue: TrialQueue, lease: Lease) -> None:
        self._queue, self._lease = queue, lease

    def time_up(self) -> bool:
        return self._queue.time_up()

    def final_run_waiting(self) -> bool:
        return self._queue.final_run_waiting(self._lease.identity.lane)

    def final_run_here(self) -> bool:
        return self._queue.final_run_on_lane(self._lease.identity.lane)

    def curves(self) -> list[RungRecord]:
        return self._queue.rung_records()

    def curve(self) -> dict[int, float]:
        return self._lease.curve()

    def should_prune(self) -> bool:
        return self._lease.should_prune()
