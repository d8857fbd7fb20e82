"""A study's results as plain data: what every part of a report is drawn from.

Everything comes from the storage alone. The same data is written next to the report as
report.json, so pages built on a report (docs/studies/) take their numbers from it.
"""

from __future__ import annotations

import math
import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo.config import OBJECTIVES
from hpo.report.replicates import repeated_configs
from hpo.trials import METRIC_KEYS, TrialKeys, logical_trials, study_database_id

BEST_ROWS = 10  # trials in the "best trials" table of a single-objective study


@dataclass
class TrialRow:
    """One trial as a report shows it."""

    number: int
    state: str
    values: list[float] | None
    params: dict[str, Any]
    metrics: dict[str, float]
    duration_s: float | None
    curve: dict[int, float]  # epoch -> intermediate value
    replicate: int | None = None  # which repeat of its configuration (a seeded grid), else None

    @property
    def epochs(self) -> int | None:
        trained = self.metrics.get("epochs_trained")
        return int(trained) if trained is not None else (max(self.curve) if self.curve else None)


@dataclass
class ReportData:
    study: str
    study_id: int
    config: dict[str, Any]  # the hpo study config; empty for studies hpo did not create
    objectives: list[str]
    directions: list[str]
    metric: str  # what the intermediate values are
    counts: dict[str, int]
    wall_time_s: float | None  # first trial start to last trial end
    trial_time_s: float  # sum of trial durations (all workers)
    trials: list[TrialRow]
    best: list[int] = field(default_factory=list)  # trial numbers, best first (or the Pareto set)
    importances: dict[str, float] | None = None
    importance_note: str | None = None
    # Configurations that ran more than once (over seeds), each with its mean and 95 % interval.
    repeats: list[dict[str, Any]] = field(default_factory=list)

    @property
    def multi_objective(self) -> bool:
        return len(self.directions) > 1

    def trial(self, number: int) -> TrialRow:
        return next(t for t in self.trials if t.number == number)

    def to_json(self) -> dict[str, Any]:
        return asdict(self)


def shown_space(space: Any) -> Any:
    """A space file's path relative to this folder when it lies below it (create stores it
    absolute): reports that are committed name no machine's folders."""
    if isinstance(space, str) and os.path.isabs(space):
        relative = os.path.relpath(space)
        return space if relative.startswith("..") else relative
    return space


def _finite(value: Any) -> Any:
    return None if isinstance(value, float) and not math.isfinite(value) else value


def _row(trial: FrozenTrial) -> TrialRow:
    metrics = {k: _finite(trial.user_attrs[k]) for k in (*METRIC_KEYS, TrialKeys.FAIL_REASON) if k in trial.user_attrs}
    return TrialRow(
        number=trial.number,
        state=trial.state.name,
        values=[_finite(v) for v in trial.values] if trial.values else None,
        params=dict(trial.params),
        metrics=metrics,
        duration_s=trial.duration.total_seconds() if trial.duration else None,
        curve={int(step): float(v) for step, v in sorted(trial.intermediate_values.items())},
        replicate=trial.user_attrs.get(TrialKeys.REPLICATE),
    )


def _objective_names(study: optuna.Study) -> list[str]:
    names = study.user_attrs.get("objectives")
    if names and len(names) == len(study.directions):
        return list(names)
    return [f"objective {i}" for i in range(len(study.directions))]


def _best_numbers(study: optuna.Study, complete: list[FrozenTrial]) -> list[int]:
    if not complete:
        return []
    if len(study.directions) > 1:
        return sorted(t.number for t in study.best_trials)
    reverse = study.direction == optuna.study.StudyDirection.MAXIMIZE
    scored = [(t.value, t.number) for t in complete if t.value is not None]  # COMPLETE: always a value
    ranked = sorted(scored, key=lambda pair: pair[0], reverse=reverse)  # stable: ties keep trial order
    return [number for _, number in ranked[:BEST_ROWS]]


def importance_target(directions: list[optuna.study.StudyDirection]) -> Callable[[FrozenTrial], float] | None:
    """The first objective for multi-objective studies, negated when maximized.

    PED-ANOVA ranks what makes the target *low*, so a maximized objective must be negated.
    Single-objective studies need no target: optuna reads the direction itself.
    """
    if len(directions) == 1:
        return None
    if directions[0] == optuna.study.StudyDirection.MAXIMIZE:
        return lambda t: -t.values[0]
    return lambda t: t.values[0]


def _importances(study: optuna.Study, complete: list[FrozenTrial]) -> tuple[dict[str, float] | None, str | None]:
    if len(complete) < 2:
        return None, f"hyperparameter importances need at least 2 complete trials; this study has {len(complete)}"
    target = importance_target(study.directions)
    try:
        with warnings.catch_warnings():
            # It warns whenever a target is given, even one negated as it asks.
            warnings.filterwarnings("ignore", message="PedAnovaImportanceEvaluator computes")
            found = optuna.importance.get_param_importances(study, target=target)
    except (ValueError, RuntimeError) as exc:  # e.g. every complete trial has the same params
        return None, f"hyperparameter importances could not be computed: {exc}"
    return {k: float(v) for k, v in found.items()}, None


def collect(study: optuna.Study) -> ReportData:
    """Read everything a report shows from ``study``'s storage."""
    trials = logical_trials(study.get_trials(deepcopy=False))
    complete = [t for t in trials if t.state == TrialState.COMPLETE]
    objectives = _objective_names(study)
    starts = [t.datetime_start for t in trials if t.datetime_start]
    ends = [t.datetime_complete for t in trials if t.datetime_complete]
    importances, note = _importances(study, complete)
    rows = [_row(t) for t in trials]
    return ReportData(
        study=study.study_name,
        study_id=study_database_id(study),
        config={k: shown_space(v) if k == "space" else v for k, v in study.user_attrs.items() if k != "extra"},
        objectives=objectives,
        directions=[d.name.lower() for d in study.directions],
        metric=study.user_attrs.get("metric") or OBJECTIVES.get(objectives[0], ("", "intermediate value"))[1],
        counts={state.name.lower(): sum(t.state == state for t in trials) for state in TrialState},
        wall_time_s=(max(ends) - min(starts)).total_seconds() if starts and ends else None,
        trial_time_s=sum(t.duration.total_seconds() for t in trials if t.duration),
        trials=rows,
        best=_best_numbers(study, complete),
        importances=importances,
        importance_note=note,
        repeats=[r.to_json() for r in repeated_configs(rows)],
    )
