"""The reading rules of the docs studies, each on a small table of made-up results: one claim
that should be supported, one contradicted, one that cannot tell, and one undertrained."""

from __future__ import annotations

import pytest

from docs.studies.tooling import rules
from docs.studies.tooling.rules import CANNOT_TELL, CONTRADICTED, SUPPORTED, UNDERTRAINED, Expect

# seed -> final validation accuracy of design b, the reference each table compares against.
B = {0: 0.850, 1: 0.860, 2: 0.840}
RISING = [[0.60, 0.70, 0.78, 0.84], [0.61, 0.71, 0.79, 0.85], [0.59, 0.69, 0.77, 0.83]]  # +6 points at the end
FLAT = [[0.80, 0.84, 0.850, 0.852], [0.81, 0.85, 0.858, 0.860], [0.79, 0.83, 0.838, 0.840]]

# (what is claimed of a - b, a's accuracies by seed, is a trained, the verdict)
TABLES = {
    Expect.HIGHER: [
        ("ahead on every seed by 2-3 points", {0: 0.875, 1: 0.880, 2: 0.870}, True, SUPPORTED),
        ("behind on every seed", {0: 0.820, 1: 0.835, 2: 0.815}, True, CONTRADICTED),
        ("ahead on two seeds, behind on one", {0: 0.860, 1: 0.850, 2: 0.850}, True, CANNOT_TELL),
        ("far ahead, but still rising", {0: 0.900, 1: 0.910, 2: 0.905}, False, UNDERTRAINED),
    ],
    Expect.LOWER: [
        ("behind on every seed", {0: 0.820, 1: 0.835, 2: 0.815}, True, SUPPORTED),
        ("ahead on every seed", {0: 0.875, 1: 0.880, 2: 0.870}, True, CONTRADICTED),
        ("mixed", {0: 0.860, 1: 0.850, 2: 0.850}, True, CANNOT_TELL),
        ("behind, but still rising", {0: 0.700, 1: 0.710, 2: 0.690}, False, UNDERTRAINED),
    ],
    Expect.SAME: [  # within one point of each other
        ("a tenth of a point apart, steadily", {0: 0.851, 1: 0.861, 2: 0.842}, True, SUPPORTED),
        ("three points apart, steadily", {0: 0.880, 1: 0.890, 2: 0.871}, True, CONTRADICTED),
        ("about level, but noisy", {0: 0.870, 1: 0.850, 2: 0.835}, True, CANNOT_TELL),
        ("level, but still rising", dict(B), False, UNDERTRAINED),
    ],
    Expect.NOT_LOWER: [  # not below by more than one point
        ("a little below, within the point", {0: 0.848, 1: 0.857, 2: 0.839}, True, SUPPORTED),
        ("three points below, steadily", {0: 0.820, 1: 0.830, 2: 0.811}, True, CONTRADICTED),
        ("a point below, noisily", {0: 0.820, 1: 0.860, 2: 0.830}, True, CANNOT_TELL),
        ("level, but still rising", dict(B), False, UNDERTRAINED),
    ],
}


@pytest.mark.parametrize(("expect", "case"), [(e, c) for e, cases in TABLES.items() for c in cases],
                         ids=lambda v: v.value if isinstance(v, Expect) else v[0])
def test_each_comparison_rule_on_its_table(expect: Expect, case: tuple) -> None:
    _, a, a_trained, verdict = case
    judged = rules.judge(a, B, expect, a_trained=a_trained)
    assert judged.verdict == verdict
    if verdict == UNDERTRAINED:
        assert judged.diff is None  # no difference is reported for models still rising
    else:
        assert judged.diff is not None and judged.diff.low <= judged.diff.mean <= judged.diff.high
        assert judged.diff.mean == pytest.approx(sum(a[s] - B[s] for s in B) / 3)


def test_a_difference_decides_only_when_its_interval_excludes_zero() -> None:
    # The same mean difference (+1 point): steady over seeds decides, noisy does not.
    steady = rules.judge({0: 0.860, 1: 0.871, 2: 0.849}, B, Expect.HIGHER)
    noisy = rules.judge({0: 0.890, 1: 0.850, 2: 0.840}, B, Expect.HIGHER)
    assert steady.diff.mean == pytest.approx(noisy.diff.mean)
    assert (steady.verdict, noisy.verdict) == (SUPPORTED, CANNOT_TELL)
    assert noisy.diff.low < 0 < noisy.diff.high


def test_fewer_than_three_paired_seeds_cannot_tell() -> None:
    judged = rules.judge({0: 0.95, 1: 0.96}, B, Expect.HIGHER)  # far ahead, on two seeds only
    assert (judged.verdict, judged.diff) == (CANNOT_TELL, None)
    assert "2 paired seeds" in judged.reason


@pytest.mark.parametrize(("curves", "flat"), [
    (FLAT, True),  # +0.2 point over the last epoch
    (RISING, False),  # +6 points over the last epoch
    ([[0.5, 0.9]] * 3, False),  # two epochs: +40 points over the last one
    ([[0.80, 0.85, 0.86, 0.865, 0.868, 0.870, 0.871, 0.872]] * 3, True),  # 8 epochs: +0.2 over the last 2
    ([[0.80, 0.85, 0.86, 0.865, 0.868, 0.870, 0.880, 0.890]] * 3, False),  # 8 epochs: +2 over the last 2
    ([[0.8]], False),  # one epoch: no slope to read
    ([], False),
])
def test_the_plateau_rule(curves: list[list[float]], flat: bool) -> None:
    assert rules.PLATEAU.flattened(curves) is flat


def test_a_claim_of_several_comparisons_needs_all_of_them() -> None:
    assert rules.combine([SUPPORTED, SUPPORTED]) == SUPPORTED
    assert rules.combine([SUPPORTED, CANNOT_TELL]) == CANNOT_TELL
    assert rules.combine([SUPPORTED, CONTRADICTED, CANNOT_TELL]) == CONTRADICTED
    assert rules.combine([CONTRADICTED, UNDERTRAINED]) == UNDERTRAINED  # never judged on a rising model
    assert rules.combine([SUPPORTED, rules.NOT_MEASURED]) == rules.NOT_MEASURED
    assert rules.combine([]) == rules.NOT_MEASURED
