"""The narrow storage handle a :class:`~hpo.trials.lease.Lease` holds: not the whole queue.

A lease writes its trial through the study and backend, waits out outages with the retrier,
and, when handing its trial back, queues a retry. That is all it may reach; the queue makes
one handle and gives it to every lease it grants, so the lease never points back at it.
"""

from __future__ import annotations

from dataclasses import dataclass

import optuna
from optuna.trial import TrialState

from hpo.trials._retry import Retrier
from hpo.trials.budget import superseded_numbers
from hpo.trials.storage import retry_callback


@dataclass(frozen=True)
class StorageHandle:
    study: optuna.Study
    backend: optuna.storages.RDBStorage
    retrier: Retrier

    def requeue(self, number: int) -> None:
        """After trial ``number`` was failed: queue a retry that resumes from its checkpoint.

        One retry per attempt: if another worker already judged it stale and re-queued it,
        nothing is added.
        """

        def requeue() -> None:
            trials = self.study.get_trials(deepcopy=False)
            if number in superseded_numbers(trials):
                return
            frozen = next(t for t in trials if t.number == number)
            if frozen.state == TrialState.FAIL:
                retry_callback()(self.study, frozen)

        self.retrier.call(requeue, "re-queue a trial")
