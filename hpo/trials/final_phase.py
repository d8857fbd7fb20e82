"""The queue's side of the final phase: start the study's final run once, and say where it runs.

The policy (when it is due, what it trains, until when) is hpo.trials.final_run, pure. This
module applies it to the storage for the queue (hpo.trials.queue):

- :meth:`FinalPhase.start`: the worker that finds the run due writes the study attr once
  (:data:`~hpo.trials.final_run.FINAL_RUN_KEY`, with its host), adds the run's slot and claims it.
- :meth:`FinalPhase.waiting`: due and not started; a search trial's worker then hands the
  trial back at its epoch boundary and starts the run, rather than make it wait.
- :meth:`FinalPhase.on_host`: the run started on this host. Its other workers then stop
  searching: their trials are handed back at the next epoch boundary, they claim nothing but
  the run's own retry (if its worker dies, one of them resumes it from its checkpoint), and
  its worker takes every core (hpo.worker.final_phase).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from typing import Any

import optuna
from optuna.trial import FrozenTrial

from hpo.config import StudyConfig
from hpo.trials import _optuna, final_run
from hpo.trials._retry import Retrier
from hpo.trials.identity import WorkerIdentity
from hpo.trials.lease import Lease
from hpo.trials.records import TrialKeys
from hpo.trials.slots import add_final_run_slot

log = logging.getLogger("hpo.trials")

CANDIDATES = 8  # final-run retries are one at a time; a few ids cover racing claims


class FinalPhase:
    """One study's final run, as one worker's queue sees it."""

    def __init__(self, config: StudyConfig, study: optuna.Study, backend: optuna.storages.RDBStorage,
                 retrier: Retrier, *, maximize: bool, deadline: Callable[[], datetime.datetime | None],
                 live_trials: Callable[[], list[FrozenTrial]], lease: Callable[[int, WorkerIdentity], Lease]) -> None:
        self.config, self.study, self._backend, self.retrier = config, study, backend, retrier
        self._maximize, self._deadline, self._live_trials, self._lease = maximize, deadline, live_trials, lease
        self._started: dict[str, Any] | None = None  # the study attr, once seen: it is written once

    @property
    def _sid(self) -> int:
        return _optuna.study_id(self.study)

    def started(self) -> dict[str, Any] | None:
        """The run's study attr (source, epochs, end, host), if any worker started it."""
        # Nobody starts it before it is due, so reads begin then; once seen, it never changes.
        if self._started is None and self._due() is not None:
            attr = self.retrier.call(lambda: self._backend.get_study_user_attrs(self._sid).get(final_run.FINAL_RUN_KEY),
                                     "read the final run")
            self._started = attr if isinstance(attr, dict) else None
        return self._started

    def on_host(self, host: str) -> bool:
        """Whether the final run started on ``host``: its workers then leave it every core."""
        started = self.started()
        return bool(started) and started.get("host") == host  # type: ignore[union-attr]

    def _due(self) -> float | None:
        """The seconds left, if the run is due and not known to have started; no reads."""
        share, budget_s, end = self.config.final_share, self.config.time_budget_s, self._deadline()
        if self._started is not None or not share or budget_s is None or end is None:
            return None
        left = (end - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        return left if final_run.due(budget_s, left, share) else None

    def _plan(self, left: float) -> final_run.Plan | None:
        end, budget_s = self._deadline(), self.config.time_budget_s
        assert end is not None and budget_s is not None  # _due() checked both
        candidates = [final_run.Candidate(t.number, t.params, dict(t.intermediate_values),
                                          t.user_attrs.get(TrialKeys.SECONDS_PER_EPOCH))
                      for t in self._live_trials()]
        warm = self._warm_start() if self.config.final_share >= 1 else None
        return final_run.plan(candidates, self._maximize, left, final_run.ends_at(end.timestamp(), budget_s), warm)

    def _warm_start(self) -> final_run.Candidate | None:
        """The study's first enqueued trial (the space's warm start), for a run with no search."""
        def read() -> FrozenTrial | None:
            try:
                return self._backend.get_trial(self._backend.get_trial_id_from_study_id_trial_number(self._sid, 0))
            except KeyError:
                return None

        first = self.retrier.call(read, "read the warm start")
        fixed = first.system_attrs.get("fixed_params") if first is not None else None
        return final_run.Candidate(0, dict(fixed), {}, None) if fixed else None

    def waiting(self) -> bool:
        """Whether the run is due, can be sized, and nobody has started it yet.

        A worker asks at each epoch boundary of a search trial and, if so, hands the trial back
        and claims the run: otherwise the run would wait for the trial to end (a promotion to 9
        epochs is minutes on a CPU) and get less time than it was sized for. Workers that ask at
        once may all hand back; one starts the run, and the others resume a handed-back trial.
        """
        if (left := self._due()) is None:
            return False
        if self.started() is not None:
            return False  # another worker started it
        return self._plan(left) is not None

    def start(self, identity: WorkerIdentity) -> Lease | None:
        """Start the run, if it is due and this worker is the one to start it."""
        if (left := self._due()) is None:
            return None
        if (plan := self._plan(left)) is None:
            return None  # nothing sized yet, or nothing would train longer: search on, look again
        attr = {**plan.to_attr(), "host": identity.host, "worker": identity.name}
        if not self.retrier.call(lambda: _optuna.set_study_attr_once(self._backend, self._sid, final_run.FINAL_RUN_KEY,
                                                                     attr), "start the final run"):
            self._started = None
            self.started()  # another worker started it first: learn where
            return None
        self._started = attr
        tid = self.retrier.call(lambda: add_final_run_slot(self._backend, self._sid, plan), "add the final run")
        lease = self._claim([tid], identity)
        if lease is None:
            return None  # the deadline came first; the slot waits with no epochs, and is not counted
        estimate = f"about {plan.epochs} epochs at its pace so far" if plan.epochs else "its pace not measured yet"
        log.info("[%s] trial %d is the final run: trial %d's configuration for the %.0f s left (%s)",
                 identity.name, lease.number, plan.source, left, estimate)
        return lease

    def claim_retry(self, identity: WorkerIdentity) -> Lease | None:
        """The run's retry, waiting after its worker died or stopped: resumed from its checkpoint."""
        ids = self.retrier.call(lambda: _optuna.marked_waiting_trial_ids(self._backend, self._sid, TrialKeys.FINAL_EPOCHS),
                                "look for the final run")
        return self._claim(ids, identity) if ids else None

    def _claim(self, ids: list[int], identity: WorkerIdentity) -> Lease | None:
        beat, end = _optuna.heartbeat_enabled(self._backend), self._deadline()
        candidate = self.retrier.call(
            lambda: _optuna.claim_waiting_trial(self._backend, self._sid, CANDIDATES, beat, only_ids=ids, not_after=end),
            "claim the final run")
        return None if candidate is None else self._lease(candidate, identity)
