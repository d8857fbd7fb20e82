"""Choosing the training device and the number of CPU threads."""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from pathlib import Path

import torch

from hpo.errors import UsageError


def resolve_device(spec: str, pick_gpu: Callable[[int], int] = lambda count: 0) -> torch.device:
    """``auto`` (CUDA when present), ``cpu``, ``cuda``, ``cuda:N`` or ``cuda:auto``.

    ``cuda:auto`` takes GPU ``pick_gpu(count)``: a worker passes its host registry's choice, the
    least loaded GPU (hpo.host_registry), so ``docker compose up --scale worker=4`` on a 4-GPU
    host puts one worker on each GPU. It is called only then.
    """
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda:auto":
        if not torch.cuda.is_available():
            raise UsageError("device 'cuda:auto' requested but no CUDA GPU is visible; use --device cpu or auto")
        return torch.device("cuda", pick_gpu(torch.cuda.device_count()))
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(f"device {spec!r} requested but no CUDA GPU is visible; use --device cpu or auto")
        device = torch.device(spec)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"device {spec!r} does not exist; this host has {torch.cuda.device_count()} GPU(s)")
        return device
    raise UsageError(f"device {spec!r} is not one of auto, cpu, cuda, cuda:N")


def available_cores() -> int:
    """Cores this process may use: its CPU affinity, capped by a container's CPU quota.

    ``docker run --cpus 2`` (compose ``cpus:``) sets a cgroup quota but leaves all of the host's
    cores in the affinity mask, so counting the mask alone makes each container start one
    thread per host core and fight over its two.
    """
    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
    quota = _cgroup_cpu_quota()
    return max(1, min(cores, int(quota))) if quota else cores


def _cgroup_cpu_quota() -> float | None:
    """CPUs allowed by cgroup v2 ``cpu.max`` or v1 ``cpu.cfs_quota_us``; None when unlimited."""
    try:
        quota, period = Path("/sys/fs/cgroup/cpu.max").read_text().split()[:2]
        return None if quota == "max" else int(quota) / int(period)
    except (OSError, ValueError):
        pass
    try:
        quota_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_quota_us").read_text())
        period_us = int(Path("/sys/fs/cgroup/cpu/cpu.cfs_period_us").read_text())
        return None if quota_us <= 0 else quota_us / period_us
    except (OSError, ValueError):
        return None


def fixed_thread_count(num_threads: int | None = None, workers_per_host: int | None = None) -> int:
    """The rule without a worker registry: ``num_threads`` (HPO_NUM_THREADS) if set, else the
    available cores / ``workers_per_host`` (HPO_WORKERS_PER_HOST, unset = 1)."""
    return num_threads or max(1, available_cores() // max(1, workers_per_host or 1))


def configure_threads(num_threads: int | None = None, workers_per_host: int | None = None) -> int:
    """Set torch's intra-op threads (:func:`fixed_thread_count`) and return them.

    Workers get theirs from hpo.core_share, which divides the cores by the live workers on the
    host. Inter-op parallelism is set to one thread: the small models searched here run one op
    at a time, and a second pool would only add threads that compete with other workers.
    """
    threads = fixed_thread_count(num_threads, workers_per_host)
    torch.set_num_threads(threads)
    try:
        torch.set_num_interop_threads(1)
    except RuntimeError:  # only settable before the first parallel op; fine if already running
        pass
    return threads


@functools.cache
def cpu_flags(cpuinfo: str = "/proc/cpuinfo") -> frozenset[str]:
    """The CPU's feature flags as the kernel lists them (``avx512f``, ``amx_bf16``, ...);
    empty where it lists none (not Linux). Read once: they do not change while a process runs."""
    try:
        lines = Path(cpuinfo).read_text().splitlines()
    except OSError:
        return frozenset()
    return frozenset(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
