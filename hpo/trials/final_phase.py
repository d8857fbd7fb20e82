"""The queue's side of the final phase: start each lane's final run once, and say where they run.

The policy (when a run is due, what it trains, until when) is hpo.trials.final_run, pure. This
module applies it to the storage for the queue (hpo.trials.queue). A *lane* is what one run
takes whole (:attr:`~hpo.trials.identity.WorkerIdentity.lane`): a host's CPU cores, or one
GPU. Every lane trains a run, the k-th lane to start one the k-th best configuration
(:func:`~hpo.trials.final_run.ranked`), and export picks the best of them by validation:
top-k runs side by side rather than one run trained data-parallel across the lanes, because
they need no communication between hosts, a lane that dies costs one candidate rather than
the run, and the small models searched here do not fill one device (docs/architecture.md).

- :meth:`FinalPhase.start`: the worker that finds its lane's run due writes the next rank's
  study attr once (``final_run``, ``final_run#1``, ...; with its lane), adds the run's slot
  and claims it.
- :meth:`FinalPhase.waiting`: due and not started on this lane; a search trial's worker then
  hands the trial back at its epoch boundary and starts the run, rather than make it wait.
- :meth:`FinalPhase.on_lane`: a run started on this lane. The lane's other workers then stop
  searching: their trials are handed back at the next epoch boundary, they claim nothing but
  the run's own retry (if its worker dies, one of them resumes it from its checkpoint), and
  its worker takes every core (hpo.worker.final_phase).

With ``--final-patience P`` the phase is due sooner once the search has gone ``P`` of the time
budget without a lead beyond the noise (hpo.trials.final_run.stalled): every worker reads it
from the trials, at most every ``STALL_CHECK_S``.

With a trial budget as well (``--trials N --time-budget W``) the search may run out first: once
none of its N trials runs or waits (paused at a rung, or a retry), the final phase is due with
whatever time is left, rather than the study ending with that time unspent. A worker that finds
nothing to claim learns it (:meth:`FinalPhase.start_after_search`, :meth:`FinalPhase.starting`):
while a search trial trains, the search has not ended.
"""

from __future__ import annotations

import datetime
import functools
import logging
import time
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo.config import StudyConfig
from hpo.trials import _optuna, final_run
from hpo.trials._retry import Retrier
from hpo.trials.identity import WorkerIdentity
from hpo.trials.lease import Lease
from hpo.trials.records import TrialKeys
from hpo.trials.slots import add_final_run_slot, final_run_attrs

log = logging.getLogger("hpo.trials")

CANDIDATES = 8  # final-run retries are one at a time; a few ids cover racing claims
# Seconds between two reads of the trials for --final-patience: the phase is asked at every
# epoch boundary and claim, and a stall measured in minutes needs no finer clock.
STALL_CHECK_S = 15.0


def run_key(rank: int) -> str:
    """The study attr of the ``rank``-th final run (the first keeps the plain key)."""
    return final_run.FINAL_RUN_KEY if rank == 0 else f"{final_run.FINAL_RUN_KEY}#{rank}"


class FinalPhase:
    """One study's final runs, as one worker's queue sees them: one per lane (a host's cores,
    or one GPU; :attr:`WorkerIdentity.lane`), the k-th lane to start one training the k-th best
    configuration, so every device trains a candidate and export picks the best by validation."""

    def __init__(self, config: StudyConfig, study: optuna.Study, backend: optuna.storages.RDBStorage,
                 retrier: Retrier, *, maximize: bool, deadline: Callable[[], datetime.datetime | None],
                 live_trials: Callable[[], list[FrozenTrial]], lease: Callable[[int, WorkerIdentity], Lease]) -> None:
        self.config, self.study, self._backend, self.retrier = config, study, backend, retrier
        self._maximize, self._deadline, self._live_trials, self._lease = maximize, deadline, live_trials, lease
        self._lanes_with_runs: set[str] = set()  # once seen, a lane keeps its run: no more reads for it
        # A trial budget's search has ended (none of its trials runs or waits): the phase is due
        # before its share of the time. Once true it stays: no search trial comes back.
        self._search_over = False
        # --final-patience: the search has stalled (hpo.trials.final_run.stalled), so the phase
        # is due before its share of the time. Once true it stays, as for _search_over.
        self._stalled = False
        self._stall_checked = -STALL_CHECK_S  # time.monotonic() of the last read
        # The images a run's epoch trains on, set by the worker (it knows the data set): sizes
        # the run from trials that searched on a subset. None: as many as the trials'.
        self.images: int | None = None

    @property
    def _sid(self) -> int:
        return _optuna.study_id(self.study)

    def _runs(self) -> list[dict[str, Any]]:
        """The started runs' study attrs (source, epochs, end, lane, worker), by rank."""
        attrs = self.retrier.call(lambda: self._backend.get_study_user_attrs(self._sid), "read the final runs")
        runs, rank = [], 0
        while isinstance(attrs.get(run_key(rank)), dict):
            runs.append(attrs[run_key(rank)])
            rank += 1
        self._lanes_with_runs.update(str(r.get("lane")) for r in runs)
        return runs

    def on_lane(self, lane: str) -> bool:
        """Whether a final run started on ``lane``: its other workers then leave it the device."""
        # Nobody starts one before it is due, so reads begin then; a lane's run never goes away.
        if lane not in self._lanes_with_runs and self._due() is not None:
            self._runs()
        return lane in self._lanes_with_runs

    def _due(self) -> float | None:
        """The seconds left, if the final phase is on; no reads."""
        share, budget_s, end = self.config.final_share, self.config.time_budget_s, self._deadline()
        if not share or budget_s is None or end is None:
            return None
        left = (end - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        if left <= 0:
            return None
        # The clock first: a due phase needs no read of the trials.
        return left if final_run.due(budget_s, left, share) or self._search_over or self._search_stalled(budget_s) else None

    def _search_stalled(self, budget_s: float) -> bool:
        """With ``--final-patience``: whether the search has gone that share of the time budget
        without a lead beyond the noise (hpo.trials.final_run.stalled). Reads the trials at most
        every ``STALL_CHECK_S``; once true, never again."""
        patience = self.config.final_patience
        if self._stalled or not patience or self.config.final_share >= 1:
            return self._stalled
        if time.monotonic() - self._stall_checked < STALL_CHECK_S:
            return False
        self._stall_checked = time.monotonic()
        epochs, proportion = self.config.epochs, self.config.metric == "val_accuracy"
        # Optuna writes datetime_complete as the worker's naive local time: .timestamp() reads it
        # back as this host's, the same zone where the workers share one (a compose stack, UTC).
        results = [final_run.Result(t.datetime_complete.timestamp(), t.intermediate_values[epochs],
                                    t.user_attrs.get(TrialKeys.VAL_IMAGES) if proportion else None)
                   for t in self._live_trials()
                   if t.state == TrialState.COMPLETE and t.datetime_complete is not None
                   and epochs in t.intermediate_values and t.user_attrs.get(TrialKeys.FINAL_EPOCHS) is None]
        self._stalled = final_run.stalled(results, self._maximize, time.time(), patience * budget_s)
        if self._stalled:
            log.info("the search has not led its best by more than the noise for %.0f s (--final-patience "
                     "%g): the final phase starts now", patience * budget_s, patience)
        return self._stalled

    def _look_for_search_end(self, trials: list[FrozenTrial] | None = None) -> None:
        """With a trial budget, before the phase's share of the time: note whether the search has
        ended, none of its trials running or waiting (a final run's own trial is not search).

        Asked by a worker that found nothing to claim: while a search trial trains or waits, the
        search has not ended. ``trials``: the study's trials, where the caller has just read them
        (progress); else one read of the few trials still live.
        """
        config = self.config
        if self._search_over or not config.final_share or config.budget is None or self._due() is not None:
            return  # known already, no final run, no trial budget, or due by the clock already
        if self._deadline() is None:
            return  # no claim yet, so nothing has searched

        def live() -> list[FrozenTrial]:
            if trials is not None:
                return [t for t in trials if t.state in (TrialState.WAITING, TrialState.RUNNING)]
            return self.retrier.call(lambda: self._backend.get_all_trials(
                self._sid, deepcopy=False, states=(TrialState.WAITING, TrialState.RUNNING)), "look for search trials")

        self._search_over = all(t.user_attrs.get(TrialKeys.FINAL_EPOCHS) is not None for t in live())

    def _plan(self, left: float, runs: list[dict[str, Any]]) -> final_run.Plan | None:
        """The plan of the next lane's run: the best configuration none of ``runs`` trains."""
        end, budget_s = self._deadline(), self.config.time_budget_s
        assert end is not None and budget_s is not None  # _due() checked both
        # Accuracy is a share of the validation images: their count sizes its noise.
        proportion = self.config.metric == "val_accuracy"
        candidates = [final_run.Candidate(t.number, t.params, dict(t.intermediate_values),
                                          t.user_attrs.get(TrialKeys.SECONDS_PER_EPOCH),
                                          t.user_attrs.get(TrialKeys.VAL_IMAGES) if proportion else None,
                                          t.user_attrs.get(TrialKeys.TRAIN_IMAGES))
                      for t in self._live_trials() if t.user_attrs.get(TrialKeys.FINAL_EPOCHS) is None]
        warm = self._warm_start if self.config.warm_start else None
        return final_run.plan(candidates, self._maximize, left, final_run.ends_at(end.timestamp(), budget_s),
                              warm if self.config.final_share >= 1 else None, [r["source"] for r in runs],
                              prior=warm.params if warm is not None else None, images=self.images)

    @functools.cached_property
    def _warm_start(self) -> final_run.Candidate | None:
        """The study's first enqueued trial (the space's warm start): the run of ``--final-share 1``,
        and the configuration that wins a tie (hpo.trials.final_run.ranked). Read once: it never changes."""
        def read() -> FrozenTrial | None:
            try:
                return self._backend.get_trial(self._backend.get_trial_id_from_study_id_trial_number(self._sid, 0))
            except KeyError:
                return None

        first = self.retrier.call(read, "read the warm start")
        fixed = first.system_attrs.get("fixed_params") if first is not None else None
        return final_run.Candidate(0, dict(fixed), {}, None) if fixed else None

    def starting(self, trials: list[FrozenTrial]) -> int:
        """How many runs are started (their study attr written) but missing from ``trials``, or
        due and about to start.

        The worker that starts a run writes its attr, then adds its trial. A lane's other worker
        that finds nothing to claim in between must count the run as running: otherwise it
        would find the study done and exit, leaving nobody to resume the run if its worker dies.
        Likewise when a trial budget's search has just ended and nobody has started the run yet:
        the worker that counts it starts it at its next claim.
        """
        self._look_for_search_end(trials)
        if (left := self._due()) is None:
            return 0  # nobody starts a run before it is due: no read
        runs = self._runs()
        lanes = {str(run.get("lane")) for run in runs}
        pending = self._search_over and not runs and self._plan(left, runs) is not None
        return len(lanes - {t.user_attrs.get(TrialKeys.FINAL_LANE) for t in trials}) + int(pending)

    def waiting(self, lane: str) -> bool:
        """Whether ``lane``'s run is due, can be sized, and nobody has started it yet.

        A worker asks at each epoch boundary of a search trial and, if so, hands the trial back
        and claims the run: otherwise the run would wait for the trial to end (a promotion to 9
        epochs is minutes on a CPU) and get less time than it was sized for. Workers that ask at
        once may all hand back; one starts the run, and the others resume a handed-back trial.
        """
        if lane in self._lanes_with_runs or (left := self._due()) is None:
            return False
        runs = self._runs()
        return lane not in self._lanes_with_runs and self._plan(left, runs) is not None

    def start(self, identity: WorkerIdentity) -> Lease | None:
        """Start this worker's lane's run, if it is due and this worker is the one to start it."""
        lane = identity.lane
        if lane in self._lanes_with_runs or (left := self._due()) is None:
            return None
        while True:
            runs = self._runs()
            if lane in self._lanes_with_runs:
                return None  # a worker of this lane started it
            rank = len(runs)
            if (plan := self._plan(left, runs)) is None:
                return None  # nothing sized yet, nothing would train longer, or every configuration is another lane's
            attr = {**plan.to_attr(), "lane": lane, "host": identity.host, "worker": identity.name}
            if self.retrier.call(lambda: _optuna.set_study_attr_once(self._backend, self._sid, run_key(rank), attr),
                                 "start the final run"):
                break
            # Another lane took this rank first: look again, at the next one.
        self._lanes_with_runs.add(lane)
        # The warm start of --final-share 1 has a slot of its own, never trained: it becomes the
        # run, rather than stay WAITING beside it after the study ends.
        lease = self._claim_untrained(plan, lane, identity) if not plan.epochs else None
        if lease is None:
            tid = self.retrier.call(lambda: add_final_run_slot(self._backend, self._sid, plan, lane), "add the final run")
            lease = self._claim([tid], identity)
        if lease is None:
            return None  # the deadline came first; the slot waits with no epochs, and is not counted
        estimate = f"about {plan.epochs} epochs at its pace so far" if plan.epochs else "its pace not measured yet"
        log.info("[%s] trial %d is the final run%s: trial %d's configuration for the %.0f s left (%s)",
                 identity.name, lease.number, f" {rank + 1} (of this study's lanes)" if rank else "", plan.source,
                 left, estimate)
        return lease

    def start_after_search(self, identity: WorkerIdentity) -> Lease | None:
        """For a worker that found nothing to claim: with a trial budget whose search has ended
        before the phase's share of the time, this lane's run, with all the time left."""
        self._look_for_search_end()
        return self.start(identity) if self._search_over else None

    def _claim_untrained(self, plan: final_run.Plan, lane: str, identity: WorkerIdentity) -> Lease | None:
        """``plan``'s source slot itself, made the run; None if another worker claimed it first."""
        tid = self.retrier.call(lambda: self._backend.get_trial_id_from_study_id_trial_number(self._sid, plan.source),
                                "find the warm start")
        lease = self._claim([tid], identity)
        if lease is not None:
            lease.record(final_run_attrs(plan, lane))  # before it trains: now it is the final run
        return lease

    def claim_retry(self, identity: WorkerIdentity) -> Lease | None:
        """This lane's run, waiting after its worker died or stopped: resumed from its checkpoint."""
        ids = self.retrier.call(lambda: _optuna.marked_waiting_trial_ids(self._backend, self._sid, TrialKeys.FINAL_LANE,
                                                                         identity.lane), "look for the final run")
        return self._claim(ids, identity) if ids else None

    def _claim(self, ids: list[int], identity: WorkerIdentity) -> Lease | None:
        beat, end = _optuna.heartbeat_enabled(self._backend), self._deadline()
        candidate = self.retrier.call(
            lambda: _optuna.claim_waiting_trial(self._backend, self._sid, CANDIDATES, beat, only_ids=ids, not_after=end),
            "claim the final run")
        return None if candidate is None else self._lease(candidate, identity)
