"""Importable test helpers (the fixtures live in conftest.py)."""

from __future__ import annotations

import optuna

from hpo.config import StudyConfig
from hpo.trials import Retrier, TrialQueue, WorkerIdentity
from hpo.trials._optuna import rdb_backend
from tests.conftest import PgCluster, free_port, hpo_cmd, run_hpo, start_hpo, wait_all

IDENTITY = WorkerIdentity("test-host", 1, "0123abcd")

__all__ = ["IDENTITY", "PgCluster", "claim", "free_port", "hpo_cmd", "queue_of", "run_hpo", "start_hpo", "wait_all"]


def queue_of(study: optuna.Study) -> TrialQueue:
    """The TrialQueue a worker would hold for ``study`` (with the study's sampler and pruner)."""
    backend = rdb_backend(study)
    assert backend is not None
    return TrialQueue(study, backend, StudyConfig.of(study), Retrier(30))


def claim(study: optuna.Study) -> optuna.Trial | None:
    """Claim the next WAITING trial of ``study`` as a worker does; its Optuna trial, or None."""
    lease = queue_of(study).claim(IDENTITY)
    return None if lease is None else lease.trial
