"""Settings: the environment and command-line flags, resolved once into one typed object.

The CLI builds a :class:`Settings` at its edge (flags first, then ``HPO_*`` variables, then
defaults) and passes it down the call chain; library modules never read ``os.environ`` for
these. A malformed value is one line naming the variable, its value and the rule::

    error: HPO_NUM_THREADS is '0', but must be an integer >= 1

Example:
    >>> Settings.from_env({"HPO_DB_RETRY_TIMEOUT": "30"}).db_retry_timeout
    30.0
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, TypeVar

from hpo.errors import UsageError

T = TypeVar("T")

DEFAULT_SQLITE_FILE = "hpo.db"
PRECISIONS = ("fp32", "bf16", "fp16")  # hpo.training.precision.CHOICES
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")


@dataclass(frozen=True)
class Settings:
    """Where things live and how a process behaves; the same for every command."""

    storage: str | None = None  # HPO_STORAGE; None = sqlite:///hpo.db in the current folder
    artifacts: str | None = None  # HPO_ARTIFACTS; None = the study's recorded store, else ./artifacts
    data_dir: str | None = None  # HPO_DATA_DIR
    device: str = "auto"  # HPO_DEVICE: auto | cpu | cuda | cuda:N | cuda:auto
    # Seconds to wait out a database outage (start-up, claims, reports) before giving up.
    db_retry_timeout: float = 3600.0  # HPO_DB_RETRY_TIMEOUT
    # Checkpoint when the training since the last one is worth this many checkpoint costs.
    checkpoint_ratio: float = 20.0  # HPO_CHECKPOINT_RATIO; 0 = every epoch
    # None = the cores this process may use / the live workers on its host (hpo.core_share).
    num_threads: int | None = None  # HPO_NUM_THREADS: pins the count
    workers_per_host: int | None = None  # HPO_WORKERS_PER_HOST: an override; cores / this, fixed
    worker_index: int | None = None  # HPO_WORKER_INDEX: this worker's place on its host (GPU choice)
    gpu_counter: str | None = None  # HPO_GPU_COUNTER: a file that deals out worker ordinals
    # Side in pixels imagefolder: images are resized to; fixed into the study at create.
    image_size: int | None = None  # HPO_IMAGE_SIZE; None = 64
    # The host-local registry of live workers (a folder; compose: a volume its replicas share).
    worker_registry: str | None = None  # HPO_WORKER_REGISTRY; None = hpo-workers-<uid> in the temp dir
    # The host this worker counts as: workers with the same one share its cores and its final
    # run. None = the kernel's boot id (every container on one machine shares it).
    host_id: str | None = None  # HPO_HOST_ID
    precision: str | None = None  # HPO_PRECISION: fp32 | bf16 | fp16; None = by device (hpo.training.precision)
    log_level: str = "INFO"  # HPO_LOG_LEVEL: DEBUG shows the traceback of an unexpected trial error
    chromium: str | None = None  # HPO_CHROMIUM: the browser `hpo report` screenshots with
    dashboard_threads: int = 4  # HPO_DASHBOARD_THREADS: threads per dashboard (gunicorn) process

    @property
    def storage_url(self) -> str:
        return self.storage or f"sqlite:///{DEFAULT_SQLITE_FILE}"

    def replace(self, **changes: Any) -> Settings:
        """A copy with ``changes``; None values are ignored, so unset flags keep the env's value."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> Settings:
        """Parse the ``HPO_*`` variables; raises UsageError naming a malformed one."""
        env = os.environ if environ is None else environ

        def get(name: str, parse: Callable[[str, str], T], default: T) -> T:
            raw = env.get(name, "").strip()
            return parse(name, raw) if raw else default

        return cls(
            storage=get("HPO_STORAGE", _text, None),
            artifacts=get("HPO_ARTIFACTS", _text, None),
            data_dir=get("HPO_DATA_DIR", _text, None),
            device=get("HPO_DEVICE", _text, "auto"),
            db_retry_timeout=get("HPO_DB_RETRY_TIMEOUT", _number(minimum=0), 3600.0),
            checkpoint_ratio=get("HPO_CHECKPOINT_RATIO", _number(minimum=0), 20.0),
            num_threads=get("HPO_NUM_THREADS", _integer(minimum=1), None),
            workers_per_host=get("HPO_WORKERS_PER_HOST", _integer(minimum=1), None),
            worker_index=get("HPO_WORKER_INDEX", _integer(minimum=0), None),
            gpu_counter=get("HPO_GPU_COUNTER", _text, None),
            image_size=get("HPO_IMAGE_SIZE", _integer(minimum=1, maximum=1024), None),
            worker_registry=get("HPO_WORKER_REGISTRY", _text, None),
            host_id=get("HPO_HOST_ID", _text, None),
            precision=get("HPO_PRECISION", _choice(PRECISIONS), None),
            log_level=get("HPO_LOG_LEVEL", _choice(LOG_LEVELS), "INFO"),
            chromium=get("HPO_CHROMIUM", _text, None),
            dashboard_threads=get("HPO_DASHBOARD_THREADS", _integer(minimum=1), 4),
        )


def _text(_name: str, raw: str) -> str:
    return raw


def _choice(choices: tuple[str, ...]) -> Callable[[str, str], str]:
    def parse(name: str, raw: str) -> str:
        value = raw.lower() if choices[0].islower() else raw.upper()
        if value not in choices:
            raise UsageError(f"{name} is {raw!r}, but must be one of {', '.join(choices)}")
        return value

    return parse


def _integer(minimum: int, maximum: int | None = None) -> Callable[[str, str], int]:
    def parse(name: str, raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            value = minimum - 1
        if value < minimum or (maximum is not None and value > maximum):
            rule = f">= {minimum}" if maximum is None else f"from {minimum} to {maximum}"
            raise UsageError(f"{name} is {raw!r}, but must be an integer {rule}")
        return value

    return parse


def _number(minimum: float) -> Callable[[str, str], float]:
    def parse(name: str, raw: str) -> float:
        try:
            value = float(raw)
        except ValueError:
            value = float("nan")
        if not value >= minimum:  # also catches NaN
            raise UsageError(f"{name} is {raw!r}, but must be a number >= {minimum:g}")
        return value

    return parse
