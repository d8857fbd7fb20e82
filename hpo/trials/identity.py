"""Who a worker is: one identity, made once at start-up, that tells every worker apart.

Host names and PIDs do not: compose replicas and Kubernetes pods all run as PID 1, and two
containers on one host can share a host name. A random token from the OS's entropy source
is unique per process whatever the namespace, so it supplies:

- the name in logs and in each trial's ``worker`` user attr (``host:pid/token``);
- the sampler seed: distinct per worker, so replicas never draw the same random start-up
  trials (with ``study seed x 1000 + pid`` four replicas sampled only 5 configurations of 8);
- the GPU choice for ``cuda:auto``: ``HPO_WORKER_INDEX``, else a ticket from the shared
  counter file ``HPO_GPU_COUNTER``, else the token.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
import secrets
import socket
from dataclasses import dataclass, field
from pathlib import Path

from hpo.host_registry import host_key
from hpo.settings import Settings

TOKEN_BYTES = 4  # 2^32 values: a clash among a study's workers is ~n^2 / 2^33


@dataclass
class WorkerIdentity:
    hostname: str
    pid: int
    token: str  # hex, from secrets: unique even when host names and PIDs collide
    worker_index: int | None = None
    gpu_counter: str | None = None
    # The machine it runs on (its kernel's boot id): workers that share cores share it. The
    # final run takes every core of its host, and the host's other workers stand by.
    host: str = ""
    # Where it trains (hpo.devices): a final run is started per lane, one host's cores or one GPU.
    device: str = "cpu"
    _ordinal: int | None = field(default=None, repr=False)

    @classmethod
    def create(cls, settings: Settings) -> WorkerIdentity:
        return cls(socket.gethostname(), os.getpid(), secrets.token_hex(TOKEN_BYTES),
                   settings.worker_index, settings.gpu_counter, settings.host_id or host_key())

    @property
    def name(self) -> str:
        """For logs and trial records, e.g. ``vm:1/3fa2c19e``."""
        return f"{self.hostname}:{self.pid}/{self.token}"

    @property
    def lane(self) -> str:
        """What one final run takes whole: the host's cores, or one of its GPUs.

        The study's final phase starts one run per lane (the k-th lane to start one trains the
        k-th best configuration); a lane's other workers stand by (hpo.trials.final_phase).
        """
        return self.host if self.device == "cpu" else f"{self.host}/{self.device}"

    def sampler_seed(self, study_seed: int | None) -> int | None:
        """A 32-bit seed from the study's seed and this worker's token; None keeps it unseeded."""
        if study_seed is None:
            return None
        digest = hashlib.sha256(f"{study_seed}/{self.token}".encode()).digest()
        return int.from_bytes(digest[:4], "big")

    def ordinal(self) -> int:
        """This worker's place among the workers of its host, for dealing out GPUs (taken once)."""
        if self._ordinal is None:
            if self.worker_index is not None:
                self._ordinal = self.worker_index
            elif self.gpu_counter:
                self._ordinal = take_ticket(Path(self.gpu_counter))
            else:
                self._ordinal = int(self.token, 16)
        return self._ordinal


def take_ticket(path: Path) -> int:
    """Return the number stored in ``path`` (0 when new) and store the next one, atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+", encoding="ascii") as f:
        fcntl.flock(f, fcntl.LOCK_EX)  # released on close; serializes workers starting together
        f.seek(0)
        ticket = int(f.read().strip() or 0)
        f.seek(0)
        f.truncate()
        f.write(str(ticket + 1))
    return ticket
