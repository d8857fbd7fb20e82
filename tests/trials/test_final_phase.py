"""The final phase's storage side (hpo.trials.final_phase): one final run per lane.

A lane is what one run takes whole: a host's cores, or one GPU. The k-th lane to start a run
trains the k-th best configuration; a lane's other workers stand by and take only its retry.
Real SQLite and PostgreSQL, a queue per worker as each process holds one.
"""

from __future__ import annotations

import datetime
import time
from typing import Any

import pytest

from hpo.config import StudyConfig
from hpo.spaces import get_space
from hpo.studies.create import create
from hpo.trials import Idle, Retrier, TrialKeys, TrialQueue, WorkerIdentity, final_phase
from hpo.trials.lease import Lease
from hpo.trials.storage import open_storage

HOST_A, HOST_B = WorkerIdentity("a", 1, "000a", host="boot-a"), WorkerIdentity("b", 1, "000b", host="boot-b")
A_MATE = WorkerIdentity("a", 2, "00aa", host="boot-a")  # another worker on host a
GPU_1 = WorkerIdentity("a", 3, "0a01", host="boot-a", device="cuda:1")  # a GPU of host a: a lane of its own


def _train(leases: list[Lease | None], values: tuple[float, ...], attrs: dict[str, Any], complete_last: bool = True) -> None:
    """Each lease trains a sleep-space configuration 3 epochs to its value, records ``attrs``
    and completes (the last one only with ``complete_last``: it stays a running search trial)."""
    space = get_space("sleep")
    for lease, value in zip(leases, values):
        assert lease is not None and not lease.is_final_run
        lease.suggest(space.suggest)
        for epoch in (1, 2, 3):
            lease.report(value - 0.1 * (3 - epoch), epoch)
        lease.record(attrs)
        if complete_last or lease is not leases[-1]:
            lease.complete([value])


def _until_due(queue: TrialQueue) -> None:
    """Sleep until the final phase is due: 0.06 s after the first claim (final_share 0.9999 of
    600 s). A quick machine sets a study up in less, and the phase is then not due yet."""
    assert queue.deadline is not None and queue.config.time_budget_s is not None
    due = queue.deadline - datetime.timedelta(seconds=queue.config.final_share * queue.config.time_budget_s)
    time.sleep(max(0.0, (due - datetime.datetime.now(datetime.timezone.utc)).total_seconds()) + 0.01)


def _searched(url: str) -> TrialQueue:
    """A time-budget study whose final phase is due at once, with three trials trained 3 epochs
    and a fourth still searching on host a (claimed before any pace was known)."""
    config = StudyConfig(space="sleep", dataset="synthetic", budget=None, epochs=3, pruner="none",
                         time_budget_s=600, final_share=0.9999)  # due 0.06 s after the first claim
    create("s", config, open_storage(url))
    queue = TrialQueue.open("s", url, Retrier(10))
    leases = [queue.claim(identity) for identity in (HOST_A, HOST_A, HOST_A, A_MATE)]
    assert all(lease is not None and not lease.is_final_run for lease in leases)  # no measured pace yet
    # Three configurations, which the runs must tell apart.
    _train(leases[:3], (0.7, 0.9, 0.8), {TrialKeys.SECONDS_PER_EPOCH: 1.0})
    queue.searching = leases[3]  # type: ignore[attr-defined]
    _until_due(queue)
    return queue


def test_each_lane_trains_the_next_best_configuration_and_its_other_workers_stand_by(storage_url: str) -> None:
    _searched(storage_url)
    a, b, mate, gpu = (TrialQueue.open("s", storage_url, Retrier(10)) for _ in range(4))
    assert HOST_A.lane == "boot-a" and GPU_1.lane == "boot-a/cuda:1"
    assert a.final_run_waiting(HOST_A.lane)

    first = a.claim(HOST_A)
    assert first is not None and first.is_final_run
    second = b.claim(HOST_B)
    assert second is not None and second.is_final_run
    third = gpu.claim(GPU_1)
    assert third is not None and third.is_final_run
    trials = a.study.get_trials(deepcopy=False)
    # Trial 1 scored 0.9, trial 2 0.8, trial 0 0.7: best first, each configuration once.
    assert [trials[t.number].user_attrs[TrialKeys.FINAL_OF] for t in (first, second, third)] == [1, 2, 0]
    assert [trials[t.number].user_attrs[TrialKeys.FINAL_LANE] for t in (first, second, third)] == \
        ["boot-a", "boot-b", "boot-a/cuda:1"]
    attrs = a.study.user_attrs
    assert [attrs[k]["lane"] for k in ("final_run", "final_run#1", "final_run#2")] == ["boot-a", "boot-b", "boot-a/cuda:1"]

    # Host a's other CPU worker stands by: nothing to claim but its lane's retry, and no run of its own.
    assert mate.final_run_on_lane(A_MATE.lane) and not mate.final_run_waiting(A_MATE.lane)
    assert mate.claim(A_MATE) is None and mate.claim(A_MATE, standby=True) is None
    # A fourth lane finds no fourth configuration: it searches on.
    other = WorkerIdentity("c", 1, "000c", host="boot-c")
    assert not mate.final_run_on_lane(other.lane)
    searching = mate.claim(other)
    assert searching is not None and not searching.is_final_run

    # The run's worker dies (its attempt handed back): its lane's standing-by worker resumes it,
    # another lane's does not.
    first.hand_back("killed")
    assert b.claim(HOST_B, standby=True) is None
    resumed = mate.claim(A_MATE, standby=True)
    assert resumed is not None and resumed.is_final_run
    assert resumed.user_attrs[TrialKeys.FINAL_OF] == 1 and resumed.user_attrs[TrialKeys.FINAL_LANE] == "boot-a"


def test_a_search_trial_learns_at_its_epoch_boundary_that_its_lanes_run_started(storage_url: str) -> None:
    queue = _searched(storage_url)
    search = queue.searching  # type: ignore[attr-defined]
    view = queue.view(search)
    assert view.final_run_waiting() and not view.final_run_here()  # due: hand back and start it
    run = TrialQueue.open("s", storage_url, Retrier(10)).claim(HOST_A)  # host a's other worker starts it
    assert run is not None and run.is_final_run
    assert not view.final_run_waiting() and view.final_run_here()  # now: hand back and stand by


def test_a_run_started_but_not_yet_added_keeps_its_lanes_other_worker_from_exiting(
        storage_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    # A run's worker writes its study attr, then adds its trial. A mate that finds nothing to do
    # in between once read the study as done and exited, and nobody was left to resume the run.
    queue = _searched(storage_url)
    queue.searching.complete([0.5])  # type: ignore[attr-defined]  # nothing else runs or waits
    starter, mate = (TrialQueue.open("s", storage_url, Retrier(10)) for _ in range(2))
    seen: list[tuple[int, Idle]] = []
    add_slot = final_phase.add_final_run_slot

    def in_the_window(*args: Any, **kwargs: Any) -> int:
        # The mate looks here, inside the window: the attr is written and the trial not added.
        assert mate.claim(A_MATE) is None and mate.claim(A_MATE, standby=True) is None
        counted = mate.progress()
        seen.append((counted.running, mate.scheduler.when_idle(counted, mate.promotable_now)))
        return add_slot(*args, **kwargs)

    monkeypatch.setattr(final_phase, "add_final_run_slot", in_the_window)
    run = starter.claim(HOST_A)
    assert run is not None and run.is_final_run
    assert seen == [(1, Idle.WAIT)]
    assert mate.progress().running == 1  # once the trial is there, the run counts once
    run.complete([0.95])
    assert mate.progress().running == 0 and mate.scheduler.when_idle(mate.progress(), mate.promotable_now) is Idle.DONE


def test_the_warm_start_wins_a_lead_within_the_noise_of_the_validation_images(storage_url: str) -> None:
    # Benchmark 6 at W = 60 min: the search's best led the warm start by 0.22 points at 9 epochs,
    # less than one standard error on 6,000 validation images (0.49 points).
    config = StudyConfig(space="auto", dataset="synthetic", budget=None, epochs=9, pruner="none",
                         time_budget_s=600, final_share=0.9999, warm_start=True)
    create("w", config, open_storage(storage_url))
    queue = TrialQueue.open("w", storage_url, Retrier(10))
    space = get_space("auto")
    warm, searched = queue.claim(HOST_A), queue.claim(HOST_B)
    assert warm is not None and searched is not None and warm.number == 0
    for lease, value, images in ((warm, 0.9215, 6000), (searched, 0.9237, 6000)):
        lease.suggest(space.suggest)
        for epoch in range(1, 10):
            lease.report(value - 0.01 * (9 - epoch), epoch)
        lease.record({TrialKeys.SECONDS_PER_EPOCH: 1.0, TrialKeys.VAL_IMAGES: images})
        lease.complete([value])
    _until_due(queue)
    first, second = (TrialQueue.open("w", storage_url, Retrier(10)).claim(who) for who in (HOST_A, HOST_B))
    assert first is not None and second is not None and first.is_final_run and second.is_final_run
    trials = queue.study.get_trials(deepcopy=False)
    assert [trials[t.number].user_attrs[TrialKeys.FINAL_OF] for t in (first, second)] == [0, 1]


@pytest.mark.parametrize("share", [0.5, 0.0])
def test_a_trial_budgets_search_that_ends_first_starts_the_run_with_all_the_time_left(
        storage_url: str, share: float) -> None:
    # --trials 3 --time-budget 10m: the run is due by the clock at 5 minutes left, but the three
    # trials end within a second. Without a final run (share 0) the study is done then.
    config = StudyConfig(space="sleep", dataset="synthetic", budget=3, epochs=3, pruner="none",
                         time_budget_s=600, final_share=share)
    create("t", config, open_storage(storage_url))
    worker, mate = (TrialQueue.open("t", storage_url, Retrier(10)) for _ in range(2))
    leases = [worker.claim(HOST_A) for _ in range(3)]
    _train(leases, (0.7, 0.9, 0.8), {TrialKeys.SECONDS_PER_EPOCH: 1.0}, complete_last=False)
    # One search trial still trains: nothing to start, and the study is not done.
    assert mate.claim(A_MATE) is None
    assert mate.scheduler.when_idle(mate.progress(), mate.promotable_now) is Idle.WAIT
    leases[-1].complete([0.8])
    counted = mate.progress()  # before anyone claims again: the run about to start counts
    if not share:
        assert counted.running == 0 and mate.scheduler.when_idle(counted, mate.promotable_now) is Idle.DONE
        assert worker.claim(HOST_A) is None
        return
    assert counted.running == 1 and mate.scheduler.when_idle(counted, mate.promotable_now) is Idle.WAIT
    run = worker.claim(HOST_A)
    assert run is not None and run.is_final_run
    trials = worker.study.get_trials(deepcopy=False)
    attrs = trials[run.number].user_attrs
    assert attrs[TrialKeys.FINAL_OF] == 1  # the best of the three (0.9)
    assert attrs[TrialKeys.FINAL_EPOCHS] > 0.9 * 0.5 * 600  # sized to nearly all 600 s, not to its share
    # Its lane's other worker stands by; the run counts once.
    assert mate.claim(A_MATE) is None and mate.final_run_on_lane(A_MATE.lane)
    assert mate.progress().running == 1


@pytest.mark.parametrize("patience", [0.0005, 0.0])
def test_a_search_that_has_stalled_starts_the_run_before_its_share_of_the_time(storage_url: str, patience: float) -> None:
    # --time-budget 10m --final-patience: the run is due by the clock at 5 minutes left, but no
    # trial has led the best by more than the noise for 0.3 s (0.0005 of 600 s); the second
    # trial's lead (0.2 points on 6,000 images) is within it. Without patience it waits.
    config = StudyConfig(space="sleep", dataset="synthetic", budget=None, epochs=3, pruner="none",
                         time_budget_s=600, final_share=0.5, final_patience=patience)
    create("p", config, open_storage(storage_url))
    queue = TrialQueue.open("p", storage_url, Retrier(10))
    leases = [queue.claim(HOST_A) for _ in range(3)]
    _train(leases, (0.900, 0.902, 0.5), {TrialKeys.SECONDS_PER_EPOCH: 1.0, TrialKeys.VAL_IMAGES: 6000},
           complete_last=False)
    time.sleep(0.5)
    worker = TrialQueue.open("p", storage_url, Retrier(10))  # a fresh reader: no stale cache
    if not patience:
        assert not worker.final_run_waiting(HOST_B.lane)
        lease = worker.claim(HOST_B)
        assert lease is not None and not lease.is_final_run  # it searches on
        return
    # Trial 2 (at epoch 3, not complete) is still searching: its result is not the search's yet.
    assert worker.final_run_waiting(HOST_B.lane)
    run = worker.claim(HOST_B)
    assert run is not None and run.is_final_run
    attrs = worker.study.get_trials(deepcopy=False)[run.number].user_attrs
    assert attrs[TrialKeys.FINAL_OF] == 1  # the best (0.902)
    assert attrs[TrialKeys.FINAL_EPOCHS] > 0.9 * 0.99 * 600  # sized to the time left, not to its share
    assert worker.study.user_attrs["final_patience"] == patience
