"""Growing a chosen configuration for a long final run: size knobs and the rule that picks a size.

A search ranks configurations cheaply, at small sizes and few epochs. A model's accuracy after
a long run, though, depends on its size as much as on its recipe: on 2 CPU cores a 32-64-128
residual CNN trained 27 epochs tested 94.7 % on Fashion-MNIST, while the search's 24-wide best
trained 114 epochs tested 93.7 % (issue 25; docs/benchmarks.md). So the final run of a time
budget may train the chosen recipe at a larger size than was searched.

A space declares its size knobs (:class:`SizeKnob`: a parameter and the ladder of values it may
climb, beyond the searched range). :func:`sizes` lists the configurations the final run may
train, smallest first: one knob one rung up at a time, the knobs taking turns, each stopping
at its ladder's top. :func:`choose_size` takes the largest one whose measured
pace still fits ``min_epochs`` epochs in the time left.

Pure functions: the pace is measured by the caller (:func:`hpo.training.pace.seconds_per_epoch`).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A grown final run must fit at least this many epochs at its measured pace. Set from the
# final-size grid (benchmarks/final_size.py, docs/benchmarks.md), T = 30 min on 2 cores, the
# auto space's warm start trained on the clock: width 24, 64 epochs, 93.65 % test; width 32,
# 81 epochs, 94.21 %; width 32 x 2 blocks, 28 epochs, 93.65 %. Only E_min 28..80 picks the
# best of them (width 32, one block); 47 is the middle of that range on a log scale. The
# earlier 15 grew too far: benchmark 6's arm e (W = 60 min) took width 64 x 3 blocks for 27
# epochs, 94.09 %, level with the ungrown warm start's 231 epochs (94.13 %). One seed per cell
# and one row of the grid so far, so it stays open to the rest of the grid.
MIN_EPOCHS = 47


@dataclass(frozen=True)
class SizeKnob:
    """A parameter that sets the model's size, and the values a final run may grow it to.

    Example: ``SizeKnob("width", (16, 24, 32, 48, 64))``: a chosen width of 24 may grow to
    32, 48 or 64. A value that is not on the ladder grows to the ladder's values above it.
    """

    param: str
    ladder: tuple[int | float, ...]
    # The value the space's build assumes when the param is not asked (a conditional param
    # that is off): the knob grows from it. None: such a config does not grow along this knob.
    absent: int | float | None = None

    def __post_init__(self) -> None:
        if not self.ladder or list(self.ladder) != sorted(set(self.ladder)):
            raise ValueError(f"size knob {self.param!r}: its ladder {self.ladder!r} must be increasing and not empty")

    def rungs_above(self, value: Any) -> list[int | float]:
        """``value``, then the ladder's values above it."""
        return [value, *(v for v in self.ladder if v > value)]


def sizes(params: Mapping[str, Any], knobs: Sequence[SizeKnob]) -> list[dict[str, Any]]:
    """``params`` and its grown versions, smallest first: at each step one knob climbs one
    rung, the knobs taking turns in the order declared, each stopping at its ladder's top.

    Turns rather than all knobs at once: width 24 -> 32 and one -> two blocks per stage in
    one step would be 3.6 times the compute, too big a step to fit a budget closely.
    Knobs the params do not use (a conditional parameter that is off) stay off, unless the
    knob says which value that means (``absent``): then it grows from there.
    """
    active = [k for k in knobs if k.param in params or k.absent is not None]
    ladders = [k.rungs_above(params.get(k.param, k.absent)) for k in active]
    at = [0] * len(active)
    grown, turn = [dict(params)], 0
    while any(pos < len(ladder) - 1 for pos, ladder in zip(at, ladders)):
        i, turn = turn % len(active), turn + 1
        if at[i] == len(ladders[i]) - 1:
            continue  # at its top: the next knob's turn
        at[i] += 1
        values = {k.param: ladder[pos] for k, ladder, pos in zip(active, ladders, at)}
        # A knob still at its absent value stays out: the params then hold only what was asked.
        values = {name: v for name, v in values.items() if name in params or v != _absent(knobs, name)}
        grown.append({**params, **values})
    return grown


def _absent(knobs: Sequence[SizeKnob], param: str) -> int | float | None:
    return next(k.absent for k in knobs if k.param == param)


@dataclass(frozen=True)
class SizeChoice:
    """The size to train: its params, its measured seconds per epoch, and the epochs that fit."""

    params: dict[str, Any]
    seconds_per_epoch: float
    epochs: int
    grown: dict[str, Any]  # the knobs that changed: {param: value}; empty if none did


def choose_size(params: Mapping[str, Any], knobs: Sequence[SizeKnob], pace: Callable[[dict[str, Any]], float],
                seconds_left: float | Callable[[], float], min_epochs: int) -> SizeChoice:
    """The largest size of ``params`` whose ``pace`` (seconds per epoch) fits ``min_epochs``
    epochs in ``seconds_left``; the chosen size itself when none larger fits.

    ``pace`` is called for the sizes in order and not past the first that does not fit (paces
    grow with size, and measuring costs time); it may return ``math.inf`` to stop the search
    (its own time is spent). ``seconds_left`` may be a clock, read after each measurement, so
    the time the measurements take is not counted as the run's.
    """
    if min_epochs < 1:
        raise ValueError(f"min_epochs is {min_epochs}, but must be at least 1")

    def left() -> float:
        return seconds_left() if callable(seconds_left) else seconds_left

    candidates = sizes(params, knobs)
    best = SizeChoice(dict(candidates[0]), pace(dict(candidates[0])), 0, {})
    for candidate in candidates[1:]:
        seconds = pace(dict(candidate))
        if seconds * min_epochs > left():
            break
        changed = {k: v for k, v in candidate.items() if params.get(k) != v}
        best = SizeChoice(dict(candidate), seconds, 0, changed)
    epochs = int(left() // best.seconds_per_epoch) if best.seconds_per_epoch > 0 else 0
    return SizeChoice(best.params, best.seconds_per_epoch, epochs, best.grown)
