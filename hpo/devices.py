"""Choosing the training device and the number of CPU threads."""

from __future__ import annotations

import os

import torch

from hpo.errors import UsageError


def resolve_device(spec: str) -> torch.device:
    """``auto`` (CUDA when present), ``cpu``, ``cuda`` or ``cuda:N``."""
    if spec == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if spec == "cpu":
        return torch.device("cpu")
    if spec == "cuda" or spec.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise UsageError(f"device {spec!r} requested but no CUDA GPU is visible; use --device cpu or auto")
        device = torch.device(spec)
        if device.index is not None and device.index >= torch.cuda.device_count():
            raise UsageError(f"device {spec!r} does not exist; this host has {torch.cuda.device_count()} GPU(s)")
        return device
    raise UsageError(f"device {spec!r} is not one of auto, cpu, cuda, cuda:N")


def configure_threads(device: torch.device) -> int:
    """Give each worker its share of the host's cores so N workers do not oversubscribe them.

    HPO_NUM_THREADS sets the count directly; otherwise cores / HPO_WORKERS_PER_HOST (default 1).
    """
    if os.environ.get("HPO_NUM_THREADS"):
        threads = int(os.environ["HPO_NUM_THREADS"])
    else:
        per_host = max(1, int(os.environ.get("HPO_WORKERS_PER_HOST", "1")))
        cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
        threads = max(1, cores // per_host)
    torch.set_num_threads(threads)
    return threads
