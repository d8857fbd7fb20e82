"""A worker's share of its host's CPU cores, re-read at every trial boundary.

threads = the cores this process may use (hpo.devices.available_cores) ÷ the live workers on
the host (hpo.host_registry), as PyTorch advises for several processes on one machine. Nobody
counts the workers by hand: one that joins makes the others shrink at their next trial, one that
leaves or dies lets them grow at theirs.

A CPU worker also holds one *seat* per thread while it trains: ``seat-<i>.lock`` files,
``i < cores``, each taken with a non-blocking ``flock``. Seats make the rule hold at every
instant, not only once everyone has reached a trial boundary: a worker that joins while another
still trains on every core waits (without claiming a trial, so it spends no budget) until that
trial ends, and when there are more workers than cores the extra ones wait their turn instead of
running 2 threads per core. A dead worker's seats are free at once, like its registry entry.
GPU workers take no seats (their training does not run on the cores) but do count as workers.

Overrides, for users who want today's fixed rule: ``HPO_NUM_THREADS`` pins the count,
``HPO_WORKERS_PER_HOST`` divides the cores by a fixed number; neither waits for seats. If the
registry folder cannot be used, one warning says so and the fixed rule applies.
"""

from __future__ import annotations

import fcntl
import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO

import torch

from hpo.devices import available_cores, configure_threads, fixed_thread_count, resolve_device
from hpo.host_registry import HostRegistry, default_folder
from hpo.settings import Settings

log = logging.getLogger("hpo.worker")

SEAT_POLL_S = 0.5  # how often a waiting worker looks for a free seat (a local file lock: cheap)


def share_of(cores: int, workers: int) -> int:
    """Threads for one of ``workers`` on ``cores`` cores: at least one."""
    return max(1, cores // max(1, workers))


def open_registry(folder: str | None, token: str, host: str | None = None) -> HostRegistry | None:
    """Register this worker on its host; on a file-system error, one warning and None."""
    where = Path(folder) if folder else default_folder()
    try:
        return HostRegistry(where, token, host)
    except OSError as exc:
        log.warning("the worker registry %s cannot be used (%s); each worker takes cores / "
                    "HPO_WORKERS_PER_HOST threads: set HPO_WORKER_REGISTRY to a writable local folder",
                    where, exc.strerror or exc)
        return None


def join_host(settings: Settings, token: str, ordinal: Callable[[], int]) -> tuple[torch.device, CoreShare]:
    """Register a starting worker on its host: its device (``cuda:auto``: the least loaded GPU;
    without a registry, GPU ``ordinal() % count`` as before) and its share of the cores."""
    registry = open_registry(settings.worker_registry, token, settings.host_id)

    def pick_gpu(count: int) -> int:
        if registry is not None:
            try:
                return registry.take_gpu(count)
            except OSError as exc:  # the folder went away since: the round robin, never a crash
                log.warning("the worker registry cannot record this worker's GPU (%s); dealing GPUs in turn", exc)
        return ordinal() % count

    device = resolve_device(settings.device, pick_gpu)
    share = CoreShare(registry, num_threads=settings.num_threads, workers_per_host=settings.workers_per_host,
                      seats=device.type == "cpu")
    configure_threads(share.wanted())  # for the start-up line; each trial sets its own
    return device, share


class CoreShare:
    """Sets this worker's torch threads at each trial boundary, from its host's registry."""

    def __init__(self, registry: HostRegistry | None, *, num_threads: int | None = None,
                 workers_per_host: int | None = None, seats: bool = True) -> None:
        self.registry = registry
        self.num_threads, self.workers_per_host = num_threads, workers_per_host
        # Seats only where the count follows the registry, and only for training on the CPU.
        self.uses_seats = seats and registry is not None and num_threads is None and workers_per_host is None
        self._held: list[IO[str]] = []

    def live_workers(self) -> int:
        """The live workers on this host, this one included (1 without a registry)."""
        if self.registry is None:
            return 1
        try:
            return self.registry.live_workers()
        except OSError:  # the folder went away mid-run: behave as if alone rather than crash
            return 1

    @staticmethod
    def cores_if_alone() -> int:
        """Every core this process may use: what a worker gets when no other is on its host."""
        return available_cores()

    def wanted(self) -> int:
        """The thread count this worker should train its next trial with."""
        if self.num_threads is not None or self.registry is None or self.workers_per_host is not None:
            return fixed_thread_count(self.num_threads, self.workers_per_host)
        return share_of(self.cores_if_alone(), self.live_workers())

    def trial_boundary(self, stopped: Callable[[], bool] = lambda: False) -> int:
        """Set the threads for the next trial and return them; 0 if ``stopped`` while waiting.

        Frees the seats of the trial that ended, then takes its share anew, waiting while every
        seat is held by other workers.
        """
        self.release()
        waiting = False
        while True:
            want = self.wanted()
            if not self.uses_seats:
                return configure_threads(want)
            self._take_seats(want)
            if self._held:
                return configure_threads(len(self._held))
            if stopped():
                return 0
            if not waiting:
                log.info("every core of this host is in use by other workers; waiting for one")
                waiting = True
            time.sleep(SEAT_POLL_S)

    def take_all(self, stopped: Callable[[], bool] = lambda: False, wait_s: float = 0.0) -> int:
        """Every core this process may use, for the study's final run; returns the threads.

        The host's other workers stand by meanwhile (hpo.trials.final_phase), each handing back
        its trial at its next epoch boundary: this waits up to ``wait_s`` for their seats, then
        trains with the seats it has (its own share at least); :meth:`top_up` takes the rest as
        they free. ``HPO_NUM_THREADS`` still pins the count.
        """
        if self.num_threads is not None:
            return configure_threads(self.num_threads)
        want = self.cores_if_alone()
        if not self.uses_seats:
            return configure_threads(want)
        give_up = time.monotonic() + wait_s
        self._take_seats(want)
        while len(self._held) < want and not stopped() and time.monotonic() < give_up:
            time.sleep(SEAT_POLL_S)
            self._take_seats(want)
        return configure_threads(max(1, len(self._held)))

    def top_up(self) -> int:
        """Seats freed since :meth:`take_all`, taken now (between epochs); returns the threads."""
        if not self.uses_seats or self.num_threads is not None:
            return torch.get_num_threads()
        before = len(self._held)
        self._take_seats(self.cores_if_alone())
        return configure_threads(len(self._held)) if len(self._held) != before else torch.get_num_threads()

    def _take_seats(self, want: int) -> None:
        assert self.registry is not None
        try:
            for index in range(self.cores_if_alone()):
                if len(self._held) == want:
                    return
                seat = open(self.registry.folder / f"seat-{index}.lock", "a", encoding="ascii")  # noqa: SIM115
                try:
                    fcntl.flock(seat, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    seat.close()
                    continue
                self._held.append(seat)
        except OSError as exc:  # the folder went away mid-run: stop using seats, never crash
            log.warning("the worker registry's seats cannot be used (%s); training without them", exc)
            self.uses_seats = False
            self.release()

    def release(self) -> None:
        """Give back this worker's seats (between trials, and when it stops)."""
        for seat in self._held:
            seat.close()
        self._held = []

    def close(self) -> None:
        self.release()
        if self.registry is not None:
            self.registry.close()
