"""A study's trials as a work queue: the one owner of the storage a worker talks to.

    queue = TrialQueue.open("fm", settings.storage_url, Retrier(settings.db_retry_timeout))
    queue.attach(sampler, pruner)
    while (lease := queue.claim(identity)) is not None:
        with lease:                        # heartbeats while training
            params = lease.suggest(space.suggest)
            ...
            lease.report(value, epoch)     # each epoch; lease.should_prune()
            lease.complete(values)         # or prune / fail / hand_back

Every method waits out a database outage through the queue's :class:`Retrier` (up to
``HPO_DB_RETRY_TIMEOUT``), start-up included: callers never wrap storage calls. The queue
holds one RDBStorage; the Study on it (and so Optuna's trial cache) is the only other handle,
and claims register themselves in that cache (hpo.trials._optuna).

Admission is exact: the study holds exactly ``budget`` WAITING slots (hpo.trials.slots) and
:meth:`claim` only ever flips an existing one to RUNNING, with its first heartbeat, in one
transaction. Unlike ``study.ask()``, it never creates a trial, so N workers cannot overshoot.
"""

from __future__ import annotations

import logging
import time

import optuna
from optuna.trial import TrialState

from hpo.config import MARKER, StudyConfig
from hpo.errors import HpoError
from hpo.trials import _optuna
from hpo.trials._retry import Retrier
from hpo.trials.budget import Progress, progress, superseded_numbers
from hpo.trials.identity import WorkerIdentity
from hpo.trials.lease import Lease
from hpo.trials.inspect import stale_trial_numbers
from hpo.trials.storage import load_study, open_storage, retry_callback

log = logging.getLogger("hpo.trials")

# Candidates fetched per claim: enough that concurrent workers racing for the first ones
# still find a free one, few enough that a 10,000-trial budget is not read on every claim.
CANDIDATES = 32
STUDY_POLL_S = 2.0
PLAIN_STUDY_GRACE_S = 3.0  # a study without hpo's config this long was not made by hpo


class TrialQueue:
    """One study's trials: claim, recover, count. Made by :meth:`open`."""

    def __init__(self, study: optuna.Study, backend: optuna.storages.RDBStorage, config: StudyConfig,
                 retrier: Retrier) -> None:
        self.study, self.config, self.retrier = study, config, retrier
        self._backend = backend
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
                if "space" in attrs:
                    problem = HpoError(f"study {study_name!r} is still being created")
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
            time.sleep(STUDY_POLL_S if problem is not None else 0.5)

    @property
    def name(self) -> str:
        return self.study.study_name

    def attach(self, sampler: optuna.samplers.BaseSampler, pruner: optuna.pruners.BasePruner) -> None:
        """The sampler and pruner this worker's leases suggest and prune with."""
        self.study.sampler, self.study.pruner = sampler, pruner

    def claim(self, identity: WorkerIdentity) -> Lease | None:
        """The next WAITING trial, now RUNNING and leased to ``identity``; None when none waits."""
        beat = _optuna.heartbeat_enabled(self._backend)
        candidate = self.retrier.call(
            lambda: _optuna.claim_waiting_trial(self._backend, _optuna.study_id(self.study), CANDIDATES, beat),
            "claim a trial",
        )
        if candidate is None:
            return None
        # Building the Trial reads it and samples the relative (multivariate) params; nothing
        # is written through the cache before it is registered just after.
        trial = self.retrier.call(lambda: optuna.Trial(self.study, candidate), "start a trial")
        _optuna.register_claimed_trial(self.study, trial)
        return Lease(self, trial, identity)

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
        """Logical trials against the budget (retried attempts count once)."""
        return self.retrier.call(lambda: progress(self.study, self.config.budget), "read progress")

    def requeue(self, lease: Lease) -> None:
        """After ``lease``'s trial was failed: queue a retry that resumes from its checkpoint.

        One retry per attempt: if another worker already judged it stale and re-queued it,
        nothing is added.
        """

        def requeue() -> None:
            trials = self.study.get_trials(deepcopy=False)
            if lease.number in superseded_numbers(trials):
                return
            frozen = next(t for t in trials if t.number == lease.number)
            if frozen.state == TrialState.FAIL:
                retry_callback()(self.study, frozen)

        self.retrier.call(requeue, "re-queue a trial")

    @property
    def backend(self) -> optuna.storages.RDBStorage:
        """The storage, for the lease's heartbeat and batched writes (hpo.trials only)."""
        return self._backend
