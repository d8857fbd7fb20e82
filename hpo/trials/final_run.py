"""The final run: the end of a time budget spent training the best configuration long.

Measured on 2 CPU cores (docs/benchmarks.md, benchmark 6): the promotion scheduler's best
model after 30 minutes was a 9-epoch trial at 91.6 % test accuracy, while the space's warm
start trained for the whole 30 minutes reached 93.4 %. Short trials rank configurations well
enough, but a model's accuracy comes from its length and from a learning-rate schedule that
anneals over it. So, once the time left falls to ``share`` of the study's time budget, one
worker starts the *final run*: a new trial with the best configuration found so far, trained
from scratch for as many epochs as fit in the time left, its schedule spanning exactly those
epochs. A worker inside a search trial when the run falls due hands that trial back at its next
epoch boundary (checkpointed; resumed later) and starts the run, so the run does not wait
for the trial to end. Other workers go on searching; export picks whichever trial scores best.

The final phase (issue 25) builds on it:

- The run's learning rate follows the clock, not an epoch count: it trains from its start to
  :func:`ends_at` (just before the deadline) and its schedule anneals to its end there
  (hpo.training.budget), so a slow or fast epoch neither cuts the schedule nor leaves time.
- It takes every core of its host; the host's other workers hand back what they train and
  stand by (hpo.trials.final_phase, hpo.worker.final_phase).
- With ``--grow`` the worker that starts it trains the chosen configuration at the largest
  size (the space's size knobs) whose measured pace fits ``MIN_EPOCHS`` (hpo.spaces.sizing) in the
  time left.
- With ``--final-patience P`` it starts sooner when the search has stalled: once no search
  trial has led the best before it by more than the noise (:func:`noise`) for ``P`` of the
  time budget (:func:`stalled`). In benchmark 6's runs at W = 60 min on 2 CPU cores the
  search's best mostly stopped moving after its first 10-15 minutes (the ``val @`` columns in
  docs/benchmarks.md), while the final run's time buys accuracy ("Final-run size"). Measured
  once, it did not make a better model (docs/benchmarks.md), so it is off by default.
- ``--final-share 1`` searches nothing: the run starts at the first claim, from the space's
  warm start (the study's first enqueued trial).
- A tie goes to the warm start: when the search's best leads it, at the same epochs, by no more
  than the noise of the validation accuracy (:func:`noise`), the run trains the warm start.
  Benchmark 6 at W = 60 min on 2 CPU cores chose a trial that led the warm start by 0.22 points,
  less than one standard error (0.49 points on 6,000 images), and on one H200 the trial that led
  after few epochs, trained long, ended 0.9 points below the warm start (short-horizon bias).
  The space's defaults are a configuration known to train well long; a lead the validation set
  cannot resolve is not evidence against them. No scheduler pauses or prunes the warm start
  (hpo.trials.scheduling.base), so it has its value at the study's epochs to be compared.

This module is the policy alone, pure and unit tested: when the run is due, which trial's
configuration it trains, for about how many epochs, and until when. The queue
(hpo.trials.final_phase) starts it, once per study.
"""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

FINAL_RUN_KEY = "final_run"  # study user attr: written once, by the worker that starts the run
DEFAULT_SHARE = 0.5  # of the time budget, for --pruner promote with a time budget alone
# The epochs are sized to fill this much of the time left: epochs vary a little in length,
# and a run cut by the deadline keeps its weights but not its annealed schedule.
SAFETY = 0.9
# The timed run's training ends this share of the time budget before the deadline: its last
# validation pass and the upload of its model fit in it, so the trial ends inside the budget's
# last 2 % (issue 25).
END_MARGIN_SHARE = 0.005


@dataclass(frozen=True)
class Candidate:
    """A trial that trained, as the policy sees it."""

    number: int
    params: Mapping[str, Any]
    values: Mapping[int, float]  # epoch -> the metric reported at that epoch
    seconds_per_epoch: float | None  # measured by the trial's worker; None: unknown
    # The validation images its metric was measured on, where the metric is an accuracy (a
    # share of them); None: not a proportion, or not recorded (trials of older versions).
    val_images: int | None = None
    # The images each of its epochs trained on (a search may train on a subset; the run on
    # more); None: not recorded (trials of older versions).
    train_images: int | None = None

    @property
    def epochs(self) -> int:
        return max(self.values, default=0)


def due(time_budget_s: float, seconds_left: float, share: float) -> bool:
    """Whether the final run should start now."""
    return share > 0 and 0 < seconds_left <= share * time_budget_s


@dataclass(frozen=True)
class Result:
    """A search trial's value at the search's full length (the study's epochs), and when its
    worker reported it (Unix seconds)."""

    at: float
    value: float
    val_images: int | None = None  # as Candidate.val_images


def last_lead(results: Iterable[Result], maximize: bool) -> float | None:
    """When the search last led its own best so far by more than the noise (Unix seconds); the
    first result leads. None: no result yet.

    A lead within the noise does not count: the validation set cannot tell it from luck, and
    the tie rule (:func:`ranked`) would not train it over the warm start either. The bar is the
    best value so far, so small steps that add up do not count as one lead each.
    """
    sign = 1 if maximize else -1
    best: Result | None = None
    last: float | None = None
    for r in sorted(results, key=lambda r: r.at):
        if best is None:
            last, best = r.at, r
            continue
        if _beyond_noise(r.value, best.value, (r.val_images, best.val_images), maximize):
            last = r.at
        if sign * (r.value - best.value) > 0:
            best = r
    return last


def stalled(results: Iterable[Result], maximize: bool, now: float, patience_s: float) -> bool:
    """Whether the search has gone ``patience_s`` seconds without a lead beyond the noise
    (:func:`last_lead`): then the final run starts, rather than wait for its share of the time."""
    last = last_lead(results, maximize)
    return patience_s > 0 and last is not None and now - last >= patience_s


def noise(p: float, n: int) -> float:
    """One standard error of the difference between two accuracies near ``p``, each measured on
    the same ``n`` images, binomial and as if independent. The models' errors on shared images
    are correlated, so this overstates the noise a little: it errs toward the warm start."""
    p = min(max(p, 0.0), 1.0)
    return math.sqrt(2 * p * (1 - p) / n) if n > 0 else 0.0


def _within_noise(best: Candidate, prior: Candidate, maximize: bool) -> bool:
    """Whether ``best`` leads ``prior`` at ``best``'s epochs by no more than :func:`noise`."""
    epoch = best.epochs
    if epoch not in prior.values:
        return False  # the prior stopped at a lower rung: no comparison at equal length
    return not _beyond_noise(best.values[epoch], prior.values[epoch], (best.val_images, prior.val_images), maximize)


def _beyond_noise(value: float, bar: float, images: Iterable[int | None], maximize: bool) -> bool:
    """Whether ``value`` leads ``bar`` by more than :func:`noise` on the fewer of ``images``
    (unknown counts: any lead counts)."""
    lead = (value - bar) * (1 if maximize else -1)
    return lead > noise((value + bar) / 2, min((n for n in images if n), default=0))


def ranked(candidates: Iterable[Candidate], maximize: bool,
           prior: Mapping[str, Any] | None = None) -> list[Candidate]:
    """The configurations to train long, best first, each once.

    A value after more epochs is the better evidence (with promotion, the trials at the
    highest rung are the winners of the rungs below), so trials that trained longer come first;
    among equals, the better value. Trials without a measured pace are left out: the run could
    not be sized for them. A configuration met again (a retry, a repeat) keeps its best place.
    ``prior`` (the warm start's params) goes first when the best leads it within the noise.
    """
    known = [c for c in candidates if c.values and c.seconds_per_epoch]
    sign = 1 if maximize else -1
    order = sorted(known, key=lambda c: (-c.epochs, -sign * c.values[c.epochs], c.number))  # ties: the earlier
    seen: list[Mapping[str, Any]] = []
    unique = []
    for c in order:
        if dict(c.params) not in seen:
            seen.append(dict(c.params))
            unique.append(c)
    if prior is not None and unique:
        # The prior's params may include some its trial never asked (a conditional knob): each
        # param the trial has must agree with them.
        mine = next((c for c in unique
                     if c.params and all(k in prior and prior[k] == v for k, v in c.params.items())), None)
        if mine is not None and mine is not unique[0] and _within_noise(unique[0], mine, maximize):
            unique.remove(mine)
            unique.insert(0, mine)
    return unique


def choose(candidates: Iterable[Candidate], maximize: bool, taken: Collection[int] = (),
           prior: Mapping[str, Any] | None = None) -> Candidate | None:
    """The best configuration to train long (:func:`ranked`) that no trial in ``taken`` has.

    ``taken``: the sources of the runs other lanes started. Excluding their configurations,
    rather than taking the k-th of the ranking, keeps two lanes apart when the ranking changes
    between their reads (a trial ends, a tie turns): the k-th lane could otherwise be handed
    the configuration that has moved down into its place.
    """
    candidates = list(candidates)
    skip = [dict(c.params) for c in candidates if c.number in taken]
    return next((c for c in ranked(candidates, maximize, prior) if dict(c.params) not in skip), None)


def epochs_for(seconds_left: float, seconds_per_epoch: float) -> int:
    """Whole epochs that fit in ``SAFETY`` of the time left at this pace (0 if none)."""
    if seconds_per_epoch <= 0:
        return 0
    return max(0, math.floor(SAFETY * seconds_left / seconds_per_epoch))


def ends_at(deadline: float, time_budget_s: float) -> float:
    """When the final run's training stops (Unix seconds): just before the deadline."""
    return deadline - END_MARGIN_SHARE * time_budget_s


@dataclass(frozen=True)
class Plan:
    """The final run to start: ``source``'s params, trained until ``ends`` (Unix seconds).

    ``epochs`` estimates how many fit at the source's measured pace (0: not measured, the
    warm start of ``--final-share 1``); the worker that trains it measures its own pace.
    """

    source: int
    params: dict[str, Any]
    epochs: int
    ends: float

    def to_attr(self) -> dict[str, Any]:
        return {"source": self.source, "epochs": self.epochs, "ends": self.ends}


def plan(candidates: Iterable[Candidate], maximize: bool, seconds_left: float, ends: float,
         warm_start: Candidate | None = None, taken: Collection[int] = (),
         prior: Mapping[str, Any] | None = None, images: int | None = None) -> Plan | None:
    """The final run, or None when no trial can be sized or it would train no longer than
    the chosen trial already did (then the time left is better spent searching).

    ``taken``: the sources of the runs other lanes started (hpo.trials.final_phase); this
    lane's run trains the best configuration none of them trains. ``warm_start``: with nothing
    trained yet (``--final-share 1``), the first lane's run trains it. ``prior``: the warm
    start's params, which win a tie (:func:`ranked`). ``images``: the images each of the run's
    epochs trains on, where known; a trial that searched on fewer has its pace scaled up to
    them, and "longer" is counted in images trained on, not in epochs.
    """
    candidates = list(candidates)
    best = choose(candidates, maximize, taken, prior)
    if best is None:
        fallback = warm_start is not None and not taken and not ranked(candidates, maximize)
        return Plan(warm_start.number, dict(warm_start.params), 0, ends) if fallback else None  # type: ignore[union-attr]
    assert best.seconds_per_epoch is not None  # choose() keeps only measured trials
    scale = images / best.train_images if images and best.train_images else 1.0  # an epoch's length, run / trial
    epochs = epochs_for(seconds_left, best.seconds_per_epoch * scale)
    if epochs * scale <= best.epochs:
        return None
    return Plan(best.number, dict(best.params), epochs, ends)
