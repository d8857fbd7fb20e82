"""Growing a chosen configuration for a long final run: size knobs and the rule that picks a size.

A search ranks configurations cheaply, at small sizes and few epochs. A model's accuracy after
a long run, though, depends on its size as much as on its recipe: on 2 CPU cores a 32-64-128
residual CNN trained 27 epochs tested 94.7 % on Fashion-MNIST, while the search's 24-wide best
trained 114 epochs tested 93.7 % (issue 25; docs/benchmarks.md). So the final run of a time
budget may train the chosen recipe at a larger size than was searched.

A space declares its size knobs (:class:`SizeKnob`: a parameter and the ladder of values it may
climb, beyond the searched range), most worth growing first. :func:`choose_size` climbs them
in that order: the first knob a rung at a time while the measured pace of the next rung still
fits ``min_epochs`` epochs in the time left, then the next knob from there, and so on.

The order is a measurement, not a guess. The knobs used to take turns (width 24 -> 32 -> 32 x
2 blocks -> 48 x 2 -> ...), and on 2 CPU cores at T = 30 min (benchmarks/final_size.py) the
turn to 2 blocks was the worst step: width 32 x 2 blocks ran 66 s per epoch and tested
93.65 %, while width 48 x 1 ran 27 s and tested 94.31 %, and width 64 x 1 ran 42 s and
tested 94.44 %. At these sizes a wider stage costs less time than a deeper one (fewer,
larger operations) and buys more accuracy, so the auto space declares width first.

Pure functions: the pace is measured by the caller (:func:`hpo.training.pace.seconds_per_epoch`).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

# A grown final run must fit at least this many epochs at its measured pace. Set from the
# final-size grid (benchmarks/final_size.py, docs/benchmarks.md), T = 30 min on 2 cores, the
# auto space's warm start trained on the clock: width 24, 64 epochs, 93.65 % test; width 32,
# 81 epochs, 94.21 %; width 32 x 2 blocks, 28 epochs, 93.65 %. With the knobs then taking
# turns, only E_min 28..80 picked the best of those (width 32); 47 is the middle of that range
# on a log scale. The earlier 15 grew too far: benchmark 6's arm e (W = 60 min) took width 64 x
# 3 blocks for 27 epochs, 94.09 %, level with the ungrown warm start's 231 epochs (94.13 %).
# Width first, 47 picks width 48 at T = 30 min (67 epochs, 94.31 %), level with the row's best
# (width 64, 43 epochs, 94.44 %), and arm e (W = 60 min) grew to width 48 for 68 epochs,
# 94.35 %; on a machine twice as fast it grew to width 64 for 74 epochs, 94.61 %, and on an
# Intel machine to width 48 for 65 epochs, 94.16 %, against 93.77 % for width 24 trained the
# hour in the same session (so --grow became the default). One seed per cell, so it stays
# open to the rest of the grid.
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


@dataclass(frozen=True)
class SizeChoice:
    """The size to train: its params, its measured seconds per epoch, and the epochs that fit."""

    params: dict[str, Any]
    seconds_per_epoch: float
    epochs: int
    grown: dict[str, Any]  # the knobs that changed: {param: value}; empty if none did


def choose_size(params: Mapping[str, Any], knobs: Sequence[SizeKnob], pace: Callable[[dict[str, Any]], float],
                seconds_left: float | Callable[[], float], min_epochs: int) -> SizeChoice:
    """The size of ``params`` to train: each knob in turn, in the order given, climbs its
    ladder while the next rung's ``pace`` (seconds per epoch) fits ``min_epochs`` epochs in
    ``seconds_left``; the chosen size itself when nothing larger fits.

    A knob stops at the first rung that does not fit (paces grow along one knob, and measuring
    costs time), and the next knob climbs from where it stopped. ``pace`` may return
    ``math.inf`` to stop the whole climb (its own time is spent). ``seconds_left`` may be a
    clock, read after each measurement, so the time the measurements take is not counted as
    the run's. Knobs the params do not use (a conditional parameter that is off) stay off,
    unless the knob says which value that means (``absent``): then it grows from there.
    """
    if min_epochs < 1:
        raise ValueError(f"min_epochs is {min_epochs}, but must be at least 1")

    def left() -> float:
        return seconds_left() if callable(seconds_left) else seconds_left

    current, seconds = dict(params), pace(dict(params))
    for knob in knobs:
        start = params.get(knob.param, knob.absent)
        if start is None:
            continue  # off, and no value stands for off: this config does not grow along it
        for value in knob.rungs_above(start)[1:]:
            candidate = {**current, knob.param: value}
            measured = pace(dict(candidate))
            if math.isinf(measured):
                return _choice(params, current, seconds, left())
            if measured * min_epochs > left():
                break  # this knob's next rung does not fit: the next knob climbs from here
            current, seconds = candidate, measured
    return _choice(params, current, seconds, left())


def _choice(params: Mapping[str, Any], chosen: dict[str, Any], seconds: float, left: float) -> SizeChoice:
    epochs = int(left // seconds) if seconds > 0 else 0
    return SizeChoice(chosen, seconds, epochs, {k: v for k, v in chosen.items() if params.get(k) != v})
