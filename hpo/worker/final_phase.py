"""The worker's side of the study's final run: every core, the size it trains at, its clock.

The queue hands this worker the final run (hpo.trials.final_phase); before it trains:

1. **Every core.** The host's other workers stand by: each hands back its search trial at its
   next epoch boundary and frees its seats. This worker waits a little for them (at most
   :data:`TAKE_ALL_WAIT_S`, or 5 % of the time left), then trains with what it has and takes
   the rest at its epoch boundaries (:meth:`hpo.core_share.CoreShare.top_up`).
2. **The size.** With ``--grow``, the chosen configuration at the largest size along the
   space's size knobs whose measured pace (a few timed batches on these cores,
   hpo.training.pace) still fits ``MIN_EPOCHS`` epochs in the time left (hpo.spaces.sizing).
   Chosen once, by the first attempt, and recorded on the trial with the run's start: a retry
   resumes the same model on the same timeline.
3. **The clock.** It trains until the run's end (just before the deadline), its learning rate
   following the wall clock (hpo.training.budget), so it ends on time whatever its pace.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import torch

from hpo.data.splits import Splits
from hpo.spaces.sizing import MIN_EPOCHS, choose_size
from hpo.training import TrainConfig
from hpo.training.budget import TimeBudget
from hpo.training.pace import seconds_per_epoch
from hpo.trials import Lease, TrialKeys
from hpo.worker.context import WorkerContext

log = logging.getLogger("hpo.worker")

TAKE_ALL_WAIT_S = 90.0  # about one search epoch of the CPU profile on one core: the others' hand-back
TAKE_ALL_WAIT_SHARE = 0.05  # ... but never more than this share of the time left
PROBE_SHARE = 0.05  # of the time left, for measuring the paces of larger sizes


@dataclass(frozen=True)
class FinalRun:
    """What the final run trains: its (grown) params and config, until ``budget`` is spent."""

    params: dict[str, Any]
    config: TrainConfig
    budget: TimeBudget
    threads: int


def prepare(ctx: WorkerContext, lease: Lease, params: dict[str, Any],
            build: Callable[[dict[str, Any]], TrainConfig], splits: Splits) -> FinalRun:
    """Take the host's cores, choose (or read back) the run's size and timeline.

    ``build(params)``: the trial's run of ``params`` as a search trial of the study trains it;
    the final run trains that recipe on the clock (its epochs only an estimate), on ``splits``.
    """
    ends = float(lease.user_attrs[TrialKeys.FINAL_ENDS])
    wait = min(TAKE_ALL_WAIT_S, TAKE_ALL_WAIT_SHARE * max(0.0, ends - time.time()))
    threads = ctx.cores.take_all(lambda: ctx.stop.is_set, wait) if ctx.cores else torch.get_num_threads()
    grown, starts = lease.user_attrs.get(TrialKeys.FINAL_SIZE), lease.user_attrs.get(TrialKeys.FINAL_STARTS)
    if grown is None or starts is None:  # the first attempt: choose, and record for any retry
        grown, pace = _choose_size(ctx, params, build, ends, splits)
        starts = time.time()
        epochs = int((ends - starts) // pace) if pace > 0 else 0  # the probes' seconds are spent now
        lease.record({TrialKeys.FINAL_SIZE: grown, TrialKeys.FINAL_STARTS: starts, TrialKeys.FINAL_EPOCHS: max(1, epochs),
                      TrialKeys.FINAL_PACE: round(pace, 3)})
        what = ", ".join(f"{k} {params.get(k, '-')} -> {v}" for k, v in grown.items()) or "its size as searched"
        log.info("[%s] trial %d, the final run: %s, %d threads, %.1f s per epoch, about %d epochs in the %.0f s left",
                 ctx.name, lease.number, what, threads, pace, epochs, ends - starts)
    else:
        epochs = int(lease.user_attrs.get(TrialKeys.FINAL_EPOCHS) or 1)
    final_params = {**params, **grown}
    # The end can have passed for a retry claimed just before the deadline: a budget that is
    # spent at once, so the run ends with what its checkpoint holds.
    budget = TimeBudget(float(starts), max(ends, float(starts) + 1e-3))
    return FinalRun(final_params, build(final_params).replace(epochs=max(1, epochs)), budget, threads)


def _choose_size(ctx: WorkerContext, params: dict[str, Any], build: Callable[[dict[str, Any]], TrainConfig],
                 ends: float, splits: Splits) -> tuple[dict[str, Any], float]:
    """(the knobs grown, seconds per epoch) on this worker's device and threads, an epoch being
    one pass over ``splits``' training images."""
    knobs = ctx.space.size_knobs if ctx.config.final_grow else ()
    # Measuring is time the run does not train: at most this share of the time left, and
    # each size is judged by the time left after its own measurement.
    give_up = time.time() + PROBE_SHARE * max(0.0, ends - time.time())
    measured = 0

    def pace(candidate: dict[str, Any]) -> float:
        nonlocal measured
        if measured >= 2 and time.time() > give_up:
            return math.inf  # the chosen size and one larger are always measured; then no more
        measured += 1
        seconds = seconds_per_epoch(build(candidate), splits, ctx.device)
        # Every size measured, not only the one chosen: a size left out for a slow reading shows here.
        log.info("[%s] the final run's size %s: %.1f s per epoch measured", ctx.name,
                 {k: candidate.get(k) for k in (knob.param for knob in knobs)} or "as searched", seconds)
        return seconds

    choice = choose_size(params, knobs, pace, lambda: ends - time.time(), MIN_EPOCHS)
    return dict(choice.grown), choice.seconds_per_epoch
