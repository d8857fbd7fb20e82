"""After the deadline: no new trial starts, and trials that trained but wait (paused at a
rung, retries) are leased once more, only to end with what they reached."""

from __future__ import annotations

import datetime
import threading
from concurrent.futures import ThreadPoolExecutor

from hpo.config import StudyConfig
from hpo.studies.create import create
from hpo.trials import Retrier, TrialKeys, TrialQueue, WorkerIdentity
from hpo.trials.promotion import PAUSED_KEY
from hpo.trials.storage import open_storage

ME = WorkerIdentity("host", 1, "00ff")


def _queue(url: str) -> TrialQueue:
    return TrialQueue.open("s", url, Retrier(10))


def test_a_paused_trial_is_leased_to_end_once_the_time_is_up(storage_url: str) -> None:
    config = StudyConfig(space="sleep", dataset="synthetic", budget=None, epochs=9, pruner="promote",
                         time_budget_s=3600)
    create("s", config, open_storage(storage_url))
    queue = _queue(storage_url)
    assert queue.claim_to_end(ME) is None  # time is left: nothing ends early
    paused = queue.claim(ME)
    assert paused is not None and not paused.ending
    paused.report(0.5, 1)
    paused.pause(1)
    fresh = queue.claim(ME)  # a new configuration: it never trained
    assert fresh is not None and fresh.number != paused.number
    fresh.hand_back("stopping")  # its retry has no epoch either

    past = datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(seconds=1)
    queue.study.set_user_attr("deadline_utc", past.isoformat())
    late = _queue(storage_url)  # another worker, which reads the deadline afresh
    assert late.time_up() and late.claim(ME) is None
    ending = late.claim_to_end(ME)
    assert ending is not None and ending.ending and ending.number == paused.number
    attrs = late.study.trials[paused.number].user_attrs
    assert attrs[TrialKeys.ENDED_AT_DEADLINE] is True and attrs[PAUSED_KEY] is None
    assert late.claim_to_end(ME) is None  # only trials that trained, and each once


def test_workers_adding_slots_for_a_time_budget_together_number_them_apart(storage_url: str) -> None:
    config = StudyConfig(space="sleep", dataset="synthetic", budget=None, epochs=1, time_budget_s=3600)
    create("s", config, open_storage(storage_url))
    queues = [_queue(storage_url) for _ in range(3)]
    start = threading.Barrier(len(queues))

    def claim_some(queue: TrialQueue) -> list[int]:
        start.wait()
        return [lease.number for lease in (queue.claim(ME) for _ in range(8)) if lease is not None]

    with ThreadPoolExecutor(len(queues)) as pool:
        numbers = sorted(n for got in pool.map(claim_some, queues) for n in got)
    assert numbers == list(range(len(queues) * 8)), numbers
    stored = [t.number for t in queues[0].study.get_trials(deepcopy=False)]
    assert len(stored) == len(set(stored)), stored
