"""A study deleted under its queue and its leases (`hpo study delete`), on real databases.

Optuna reports the missing rows as a bare ``KeyError('Record does not exist.')``; every
storage call a worker makes, between trials as well as inside one, must turn that into
StudyDeleted naming the study, so the worker can stop with one line (issue 27).
"""

from __future__ import annotations

import optuna
import pytest

from hpo.config import StudyConfig
from hpo.studies.create import create
from hpo.trials import StudyDeleted
from hpo.trials.storage import open_storage
from tests.helpers import IDENTITY, queue_of


def _queue_and_lease(url: str):  # noqa: ANN202
    create("d", StudyConfig(space="sleep", dataset="synthetic", budget=2, epochs=2), open_storage(url))
    queue = queue_of(optuna.load_study(study_name="d", storage=open_storage(url)))
    lease = queue.claim(IDENTITY)
    assert lease is not None
    optuna.delete_study(study_name="d", storage=open_storage(url))  # what `hpo study delete` does
    return queue, lease


def test_between_trials_every_read_of_the_loop_says_the_study_was_deleted(storage_url: str) -> None:
    queue, _ = _queue_and_lease(storage_url)
    # What run_worker calls between trials: the claim (which then reads the study's attrs) and,
    # with nothing claimed, the progress an idle worker waits on.
    for call in (lambda: queue.claim(IDENTITY), queue.progress):
        with pytest.raises(StudyDeleted, match=r"^study 'd' was deleted \(noticed while trying to "):
            call()
    queue.recover_stale()  # reads only the heartbeats of trials that are gone: nothing to do, no error


def test_inside_a_trial_the_message_names_the_trial(storage_url: str) -> None:
    _, lease = _queue_and_lease(storage_url)
    with pytest.raises(StudyDeleted, match=r"^study 'd' was deleted while trial 0 ran$"):
        lease.record({"x": 1})
    with pytest.raises(StudyDeleted, match=r"^study 'd' was deleted while trial 0 ran$"):
        lease.complete([0.5])
