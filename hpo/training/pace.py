"""How long one epoch of a config takes on this device, measured on a few batches.

The final run of a time budget sizes its model by this (hpo.spaces.sizing): it trains a few
batches of a candidate size, discards the first (allocation, kernel selection), and scales the
rest to an epoch plus one validation pass. A few seconds per candidate, instead of an epoch.
"""

from __future__ import annotations

import time

import torch

from hpo.data.splits import Split, Splits
from hpo.training import simulate
from hpo.training.config import TrainConfig
from hpo.training.loop import _steps_per_epoch, _train_epoch, evaluate, init_state


def seconds_per_epoch(config: TrainConfig, splits: Splits, device: torch.device | str = "cpu", batches: int = 6) -> float:
    """Estimated seconds per training epoch of ``config`` (with its validation pass) on ``device``.

    Trains ``batches`` batches on a throwaway copy of the model; nothing is kept.
    """
    if simulate.settings(config) is not None:  # the sleep space: its epochs sleep, no compute to time
        return simulate.epoch_seconds(config)
    device = torch.device(device)
    # Two warm-up batches: a process's very first one or two run slow (allocation, kernel choice)
    # and read high, and a final run is often the first thing its process trains.
    warm, timed = 2, max(1, batches - 2)
    # The loop's own epoch code does the work on just enough images for the batches, so the
    # estimate includes augmentation, precision and the optimizer step as a real run has them.
    probe = config.replace(schedule="none")
    state = init_state(probe, splits, device)
    _train_epoch(state, probe, _head(splits.train, config.batch_size * warm), create_graph=False)
    _sync(device)
    head = _head(splits.train, config.batch_size * timed)
    started = time.perf_counter()
    _train_epoch(state, probe, head, create_graph=False)
    _sync(device)
    per_batch = (time.perf_counter() - started) / _steps_per_epoch(len(head), config.batch_size)
    val = _head(splits.val, 2048)
    started = time.perf_counter()
    evaluate(state.model, val, state.precision)
    _sync(device)
    per_val_image = (time.perf_counter() - started) / max(1, len(val))
    return per_batch * _steps_per_epoch(len(splits.train), config.batch_size) + per_val_image * len(splits.val)


def _head(split: Split, n: int) -> Split:
    return Split(split.x[:n], split.y[:n])


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)
