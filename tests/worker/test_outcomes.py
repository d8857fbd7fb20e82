"""How each way a trial can stop maps to what happens to it (pure: no database)."""

from __future__ import annotations

import optuna
import psycopg2
import pytest
import sqlalchemy.exc
import torch
from optuna.exceptions import StorageInternalError, UpdateFinishedTrialError

from hpo.errors import HpoError
from hpo.training import NonFiniteLoss
from hpo.trials import LeaseLost
from hpo.trials.scheduling import FINAL_RUN_REASON, STOP_REASON, hand_back, pause, prune
from hpo.worker.outcomes import Ending, Interrupt, classify


def _storage_error() -> Exception:
    """What Optuna raises when PostgreSQL drops mid-call: its wrapper around SQLAlchemy's."""
    try:
        try:
            raise sqlalchemy.exc.OperationalError("SELECT 1", {}, psycopg2.OperationalError("server closed the connection"))
        except sqlalchemy.exc.OperationalError as exc:
            raise StorageInternalError("An exception is raised during the commit.") from exc
    except StorageInternalError as wrapped:
        return wrapped


@pytest.mark.parametrize(("exc", "ending", "reason"), [
    (optuna.TrialPruned("pruned at epoch 3"), Ending.PRUNED, None),
    (NonFiniteLoss("loss nan at epoch 2"), Ending.PRUNED, "loss nan at epoch 2"),
    (Interrupt(prune(3)), Ending.PRUNED, None),
    (Interrupt(pause(3)), Ending.PAUSED, None),
    (Interrupt(hand_back(3, STOP_REASON)), Ending.HANDED_BACK, "handed back by a stopping worker"),
    (Interrupt(hand_back(3, FINAL_RUN_REASON)), Ending.HANDED_BACK, "handed back to start the study's final run"),
    (_storage_error(), Ending.HANDED_BACK, "storage failed mid-trial (StorageInternalError)"),
    (LeaseLost("trial 3 was finished by another worker"), Ending.DROPPED, "taken over by a retry"),
    (UpdateFinishedTrialError("finished"), Ending.DROPPED, "taken over by a retry"),
    (torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB\nmore"), Ending.FAILED,
     "CUDA out of memory: CUDA out of memory. Tried to allocate 2 GiB"),
    (HpoError("data set 'x' is missing; install it"), Ending.FAILED, "data set 'x' is missing; install it"),
    (ValueError("bad shape\nlong traceback text"), Ending.FAILED, "ValueError: bad shape"),
])
def test_each_exception_maps_to_one_ending(exc: BaseException, ending: Ending, reason: str | None) -> None:
    outcome = classify(exc)
    assert (outcome.ending, outcome.reason) == (ending, reason)


def test_only_unanticipated_errors_ask_for_a_traceback() -> None:
    assert classify(ValueError("x")).unexpected
    assert not classify(HpoError("x")).unexpected
    assert not classify(NonFiniteLoss("x")).unexpected


def test_a_plain_prune_keeps_its_message_for_the_log_only() -> None:
    outcome = classify(optuna.TrialPruned("pruned at epoch 3"))
    assert outcome.reason is None and outcome.detail == "pruned at epoch 3"


def test_a_pause_keeps_its_rung_and_a_prune_its_line_for_the_log() -> None:
    assert classify(Interrupt(pause(3))).epoch == 3
    assert classify(Interrupt(prune(3))).detail == "pruned at epoch 3"
