"""Benchmark 5's verdicts: a capped run is a bound, and a bound below the floor decides nothing."""

from __future__ import annotations

from benchmarks.time_to_target import Run, per_repeat, per_repeat_line, verdict

CAP = 1200.0


def runs(*pairs: tuple[float | None, float | None]) -> list[Run]:
    """(default seconds, report004 seconds) per repeat; None = not reached within CAP."""
    out = []
    for repeat, (default, report004) in enumerate(pairs):
        out += [Run("default", repeat, seconds=default), Run("report004", repeat, seconds=report004)]
    return out


def test_a_capped_baseline_gives_a_lower_bound() -> None:
    assert per_repeat(runs((90.0, None), (400.0, 800.0)), CAP) == [(CAP / 90.0, ">="), (2.0, "=")]


def test_verdict_needs_the_right_side_of_the_bound() -> None:
    assert verdict(13.3, ">=", 10) == "met"
    assert verdict(2.65, ">=", 5) == "undecided: raise --max-minutes"  # the true ratio may be anything above
    assert verdict(12.0, "<=", 10) == "undecided: raise --max-minutes"
    assert verdict(3.6, "=", 10) == "missed"
    assert verdict(1.0, "unknown", 10) == "undecided: raise --max-minutes"


def test_floor_line() -> None:
    assert per_repeat_line(runs((90.0, None), (88.0, None)), CAP).endswith("(never < 5: met)")
    # Session 5's run at 91 %: the default's third repeat needed 453 s, report004 never got there.
    line = per_repeat_line(runs((90.0, None), (88.0, None), (453.0, None)), CAP)
    assert ">= 2.65" in line and line.endswith("(never < 5: undecided: raise --max-minutes)")
    assert per_repeat_line(runs((40.0, 160.0), (40.0, 80.0)), CAP).endswith("(never < 5: missed)")
