"""Importable test helpers (the fixtures live in conftest.py)."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

import optuna

from hpo.config import StudyConfig
from hpo.trials import Retrier, TrialQueue, WorkerIdentity
from hpo.trials._optuna import rdb_backend
from tests.conftest import PgCluster, free_port, hpo_cmd, run_hpo, start_hpo, wait_all

IDENTITY = WorkerIdentity("test-host", 1, "0123abcd")

__all__ = ["IDENTITY", "PgCluster", "claim", "free_port", "hpo_cmd", "queue_of", "run_hpo", "start_hpo", "wait_all",
           "wait_for"]

T = TypeVar("T")


def wait_for(condition: Callable[[], T | None], timeout: float = 120) -> T:
    """Poll ``condition`` until it returns something truthy (a busy database counts as not yet)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            found = condition()
        except Exception:  # the database is busy: look again
            found = None
        if found:
            return found
        time.sleep(0.2)
    raise AssertionError("timed out")


def queue_of(study: optuna.Study) -> TrialQueue:
    """The TrialQueue a worker would hold for ``study`` (with the study's sampler and pruner)."""
    backend = rdb_backend(study)
    assert backend is not None
    return TrialQueue(study, backend, StudyConfig.of(study), Retrier(30))


def claim(study: optuna.Study) -> optuna.Trial | None:
    """Claim the next WAITING trial of ``study`` as a worker does; its Optuna trial, or None."""
    lease = queue_of(study).claim(IDENTITY)
    return None if lease is None else lease.trial
