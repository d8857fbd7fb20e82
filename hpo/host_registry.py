"""The live workers on this host, found without a server: one locked file per worker.

A worker creates ``<token>.worker`` in the registry folder and holds an exclusive ``flock`` on
it for its whole life. Another process tells a live worker from a stale file by trying the same
lock: it fails while the owner lives, and the kernel drops it the moment the owner dies, even by
SIGKILL. So a dead worker stops counting at once, a stale file never counts (and is removed by
the next worker that looks), and nothing needs cleaning up.

The folder (``HPO_WORKER_REGISTRY``, default a per-user folder in the host's temp dir) is split
by the kernel's boot id, which every process and container on one host shares and no other host
has: workers on other machines never count each other, even when the folder is on a file system
they share. Compose replicas on one Docker host share it through a volume, and ``flock`` works
across their containers because they run on the same kernel.

A worker's file also holds the GPU it took, so ``cuda:auto`` can give the next worker the least
loaded one (:func:`least_loaded_gpu`).

Example:
    >>> least_loaded_gpu(3, [0, 0, 1])
    2
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import socket
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import IO

WORKER_SUFFIX = ".worker"
DIRECTORY_LOCK = "registry.lock"  # serializes registering, choosing GPUs and removing stale files


def default_folder() -> Path:
    """A local, per-user folder: flock is reliable on local file systems, and users don't clash."""
    return Path(tempfile.gettempdir()) / f"hpo-workers-{os.getuid()}"


def host_key() -> str:
    """The same for every process and container on this host's kernel, different on any other."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:  # not Linux: the host name is the best this platform offers
        return socket.gethostname()


def least_loaded_gpu(count: int, taken: list[int]) -> int:
    """The GPU (of ``count``) with the fewest live workers on it; the lowest index on a tie."""
    loads = [0] * count
    for index in taken:
        if 0 <= index < count:  # a worker of a host that had more GPUs visible: not one of ours
            loads[index] += 1
    return loads.index(min(loads))


class HostRegistry:
    """This worker's entry in its host's registry, held until :meth:`close` or the process ends."""

    def __init__(self, folder: Path, token: str, host: str | None = None) -> None:
        self.folder = folder / (host or host_key())
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder / f"{token}{WORKER_SUFFIX}"
        with self._exclusive():
            self._file: IO[str] = open(self.path, "w", encoding="ascii")  # noqa: SIM115 - held for life
            fcntl.flock(self._file, fcntl.LOCK_EX | fcntl.LOCK_NB)

    @contextlib.contextmanager
    def _exclusive(self) -> Iterator[None]:
        with open(self.folder / DIRECTORY_LOCK, "a", encoding="ascii") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def _live_entries(self) -> list[str]:
        """The contents of every live worker's file (this one's included); stale files are removed."""
        live = []
        for path in self.folder.glob(f"*{WORKER_SUFFIX}"):
            try:
                with open(path, encoding="ascii") as f:
                    try:
                        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    except BlockingIOError:  # its owner holds it: alive
                        live.append(f.read().strip())
                        continue
                path.unlink(missing_ok=True)  # nobody holds it: its worker is gone
            except FileNotFoundError:  # removed by another worker while we looked
                continue
        return live

    def live_workers(self) -> int:
        """How many workers on this host are alive now, this one included."""
        with self._exclusive():
            return max(1, len(self._live_entries()))

    def take_gpu(self, count: int) -> int:
        """Choose the least loaded of ``count`` GPUs and record it as this worker's."""
        with self._exclusive():
            taken = [int(entry) for entry in self._live_entries() if entry.isdigit()]
            index = least_loaded_gpu(count, taken)
            self._file.seek(0)
            self._file.truncate()
            self._file.write(str(index))
            self._file.flush()
            return index

    def close(self) -> None:
        """Leave the registry (the kernel does the same when the process dies)."""
        if not self._file.closed:
            self.path.unlink(missing_ok=True)
            self._file.close()
