"""Means over seeds with their 95 % t-intervals, paired differences, and grouping by configuration."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from hpo.report.replicates import paired_difference, repeated_configs, t_interval


def test_the_t_interval_of_a_known_sample() -> None:
    e = t_interval([1.0, 2.0, 3.0])  # mean 2, standard deviation 1, t(0.975, 2 df) = 4.3027
    assert e.mean == 2.0 and e.n == 3
    assert e.half_width == pytest.approx(4.3027 / 3 ** 0.5, rel=1e-4)
    assert not e.excludes_zero() and t_interval([4.0, 5.0, 6.0]).excludes_zero()  # 2 ± 2.48 spans zero
    assert e.text(digits=2) == "2.00 ± 2.48"


def test_one_value_has_a_mean_but_no_interval() -> None:
    e = t_interval([0.8])
    assert (e.mean, e.low, e.high) == (0.8, None, None)
    assert not e.excludes_zero() and e.text(100, 1, " %") == "80.0 % (1 seed, no interval)"


def test_a_paired_difference_uses_only_the_seeds_both_have() -> None:
    d = paired_difference({0: 0.9, 1: 0.8, 2: 0.85, 3: 0.5}, {0: 0.85, 1: 0.75, 2: 0.80})
    assert d.n == 3 and d.mean == pytest.approx(0.05) and d.half_width == pytest.approx(0.0)


@dataclass
class Row:
    number: int
    state: str
    params: dict[str, Any]
    values: list[float] | None
    replicate: int | None = None


def test_only_configurations_that_ran_more_than_once_are_grouped_whatever_the_param_order() -> None:
    rows = [Row(0, "COMPLETE", {"a": 1, "b": "x"}, [0.5], 0), Row(1, "COMPLETE", {"b": "x", "a": 1}, [0.7], 1),
            Row(2, "COMPLETE", {"a": 2, "b": "x"}, [0.9]), Row(3, "PRUNED", {"a": 1, "b": "x"}, [0.1], 2),
            Row(4, "COMPLETE", {"a": 3}, [0.4]), Row(5, "COMPLETE", {"a": 3}, [0.6])]
    groups = {g.params.get("a"): g for g in repeated_configs(rows)}
    assert set(groups) == {1, 3}  # a=2 ran once; the pruned repeat of a=1 is left out
    assert groups[1].trials == [0, 1] and groups[1].seeds == [0, 1] and groups[1].value.mean == pytest.approx(0.6)
    assert groups[3].seeds == [4, 5]  # unmarked repeats (not a seeded grid): their trial numbers
