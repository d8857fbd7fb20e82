"""The reading rules: when a design counts as trained, and when a comparison decides a claim.

Pure functions over numbers, so each rule is tested with small tables of made-up results
(tests/docs_studies/test_rules.py). Every page states these rules beside its verdicts.

- **Trained before judged** (:class:`Plateau`): a design has flattened when its validation
  accuracy rose by less than ``tolerance`` over the last quarter of its epochs (mean over
  seeds). A verdict over a design that has not reads "not measured: undertrained".
- **Paired over seeds** (:func:`judge`): the k-th seed of every design trains with the same
  seed, so designs are compared by the paired difference ``a - b`` over seeds, with its 95 %
  t-interval. Only an interval that excludes zero (or the equivalence margin) decides.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

from hpo.report.replicates import Estimate, paired_difference, t_interval

SUPPORTED = "supported"
CONTRADICTED = "contradicted"
CANNOT_TELL = "cannot tell at this budget"
UNDERTRAINED = "not measured: undertrained"
NOT_MEASURED = "not measured"
VERDICTS = (SUPPORTED, CONTRADICTED, CANNOT_TELL, UNDERTRAINED, NOT_MEASURED)

MIN_SEEDS = 3  # a design needs this many complete seeds before it is compared


@dataclass(frozen=True)
class Plateau:
    """The rule that a validation curve has flattened."""

    share: float = 0.25  # the last quarter of the epochs (at least one epoch)
    tolerance: float = 0.01  # of accuracy: one percentage point

    def window(self, epochs: int) -> int:
        return max(1, math.ceil(self.share * epochs))

    def late_gain(self, curves: Sequence[Sequence[float]]) -> float | None:
        """Mean over seeds of the rise over the last window of epochs; None if too short."""
        gains = []
        for curve in curves:
            w = self.window(len(curve))
            if len(curve) <= w:
                return None
            gains.append(curve[-1] - curve[-1 - w])
        return sum(gains) / len(gains) if gains else None

    def flattened(self, curves: Sequence[Sequence[float]]) -> bool:
        gain = self.late_gain(curves)
        return gain is not None and gain < self.tolerance

    def describe(self) -> str:
        return (f"a design counts as trained when its validation accuracy rose by less than "
                f"{100 * self.tolerance:g} point over the last {100 * self.share:g} % of its epochs "
                f"(mean over seeds); a verdict over one that has not reads \"{UNDERTRAINED}\"")


PLATEAU = Plateau()


class Expect(Enum):
    """What a claim says about ``a - b`` (a metric of design a minus design b)."""

    HIGHER = "higher"  # a is above b
    LOWER = "lower"  # a is below b
    SAME = "same"  # a and b within the margin of each other
    NOT_LOWER = "not lower"  # a is not below b by more than the margin


MARGIN = 0.01  # what "the same" and "not lower" allow, in the metric's units (one point of accuracy)


def decide(diff: Estimate, expect: Expect, margin: float = MARGIN) -> str:
    """The verdict on one paired difference ``diff`` (of a - b) against what was claimed."""
    if diff.low is None or diff.high is None:
        return CANNOT_TELL
    low, high = diff.low, diff.high
    if expect is Expect.HIGHER:
        return SUPPORTED if low > 0 else CONTRADICTED if high < 0 else CANNOT_TELL
    if expect is Expect.LOWER:
        return SUPPORTED if high < 0 else CONTRADICTED if low > 0 else CANNOT_TELL
    if expect is Expect.SAME:
        if -margin < low and high < margin:
            return SUPPORTED
        return CONTRADICTED if low > margin or high < -margin else CANNOT_TELL
    # NOT_LOWER
    return SUPPORTED if low > -margin else CONTRADICTED if high < -margin else CANNOT_TELL


@dataclass(frozen=True)
class Judgement:
    """One comparison's verdict, with the numbers behind it."""

    verdict: str
    diff: Estimate | None  # the paired difference a - b over seeds
    reason: str = ""  # why no difference was judged (undertrained, too few seeds)


def judge(a: Mapping[int, float], b: Mapping[int, float], expect: Expect, *, a_trained: bool = True,
          b_trained: bool = True, margin: float = MARGIN, min_seeds: int = MIN_SEEDS) -> Judgement:
    """Compare design a with design b seed by seed (``seed -> metric``).

    Undertrained first: a difference between models still rising says nothing about the claim.
    """
    if not (a_trained and b_trained):
        return Judgement(UNDERTRAINED, None, "still rising at the end of its epochs")
    paired = set(a) & set(b)
    if len(paired) < min_seeds:
        return Judgement(CANNOT_TELL, None, f"{len(paired)} paired seeds, fewer than {min_seeds}")
    diff = paired_difference(a, b)
    return Judgement(decide(diff, expect, margin), diff)


def combine(verdicts: Sequence[str]) -> str:
    """A claim of several comparisons (all must hold): undertrained if any part is, contradicted
    if any part is, not measured if a part was not run, supported only if every part is, else
    cannot tell."""
    if not verdicts:
        return NOT_MEASURED
    for verdict in (UNDERTRAINED, CONTRADICTED, NOT_MEASURED):
        if verdict in verdicts:
            return verdict
    return SUPPORTED if all(v == SUPPORTED for v in verdicts) else CANNOT_TELL


def mean_interval(values: Sequence[float]) -> Estimate:
    """A design's own mean over seeds with its 95 % t-interval."""
    return t_interval(list(values))
