"""Configurations repeated over seeds: their means with 95 % intervals, and paired differences.

A study whose trials repeat a configuration (a seeded grid, `hpo study create --seeds N`, or
any study where complete trials share the same params) is read per configuration: the mean of
its trials' value with a t-interval over them. Two configurations are compared seed by seed
(``TrialKeys.REPLICATE``): the interval of the paired difference says whether one is ahead,
which two overlapping intervals of the means cannot say.
"""

from __future__ import annotations

import json
import math
import statistics
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from scipy import stats

LEVEL = 0.95  # the confidence of every interval a report prints


@dataclass(frozen=True)
class Estimate:
    """A mean over seeds with its 95 % t-interval; ``low``/``high`` are None below two values."""

    mean: float
    low: float | None
    high: float | None
    n: int

    @property
    def half_width(self) -> float | None:
        return None if self.high is None or self.low is None else (self.high - self.low) / 2

    def excludes_zero(self) -> bool:
        return self.low is not None and self.high is not None and (self.low > 0 or self.high < 0)

    def text(self, scale: float = 1.0, digits: int = 1, unit: str = "") -> str:
        """``"81.2 ± 0.9 %"`` (``scale`` 100, ``unit`` " %"); ``"81.2 % (1 seed)"`` without an interval."""
        mean = f"{self.mean * scale:.{digits}f}"
        if self.half_width is None:
            return f"{mean}{unit} ({self.n} seed{'s' if self.n != 1 else ''}, no interval)"
        return f"{mean} ± {self.half_width * scale:.{digits}f}{unit}"


def t_interval(values: Sequence[float]) -> Estimate:
    """The mean of ``values`` with its two-sided 95 % Student-t interval (None bounds for n < 2)."""
    n = len(values)
    if n == 0:
        return Estimate(math.nan, None, None, 0)
    mean = statistics.fmean(values)
    if n < 2:
        return Estimate(mean, None, None, n)
    half = float(stats.t.ppf(0.5 + LEVEL / 2, n - 1)) * statistics.stdev(values) / math.sqrt(n)
    return Estimate(mean, mean - half, mean + half, n)


def paired_difference(a: Mapping[Any, float], b: Mapping[Any, float]) -> Estimate:
    """Mean of ``a[s] - b[s]`` over the seeds ``s`` both have, with its t-interval."""
    return t_interval([a[s] - b[s] for s in sorted(set(a) & set(b), key=str)])


def config_key(params: Mapping[str, Any]) -> str:
    """One string per configuration, whatever order its params come in."""
    return json.dumps(dict(sorted(params.items())), sort_keys=True, default=str)


@dataclass(frozen=True)
class RepeatedConfig:
    """One configuration's complete trials, over seeds."""

    params: dict[str, Any]
    trials: list[int]  # trial numbers
    seeds: list[Any]  # each trial's repeat (TrialKeys.REPLICATE), or its trial number when unmarked
    value: Estimate  # the first objective's mean and interval

    def to_json(self) -> dict[str, Any]:
        v = self.value
        return {"params": self.params, "trials": self.trials, "seeds": self.seeds,
                "mean": v.mean, "low": v.low, "high": v.high, "n": v.n}


def repeated_configs(rows: Iterable[Any]) -> list[RepeatedConfig]:
    """Group complete trials (``TrialRow``-like: number, state, params, values, replicate) by
    configuration; only configurations that ran more than once are returned."""
    groups: dict[str, list[Any]] = {}
    for row in rows:
        if row.state == "COMPLETE" and row.values and row.values[0] is not None:
            groups.setdefault(config_key(row.params), []).append(row)
    found = []
    for members in groups.values():
        if len(members) < 2:
            continue
        found.append(RepeatedConfig(
            params=dict(members[0].params), trials=[t.number for t in members],
            seeds=[t.replicate if t.replicate is not None else t.number for t in members],
            value=t_interval([t.values[0] for t in members])))
    return found
