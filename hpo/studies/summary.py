"""A study's state as plain data: what `hpo study show` prints and `--json` emits."""

from __future__ import annotations

import datetime
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo.config import StudyConfig
from hpo.formatting import format_duration
from hpo.trials import METRIC_KEYS, Progress, TrialKeys, TrialQueue


def trial_summary(trial: FrozenTrial) -> dict[str, Any]:
    return {
        "number": trial.number,
        "state": trial.state.name,
        "values": trial.values,
        "params": trial.params,
        "metrics": {k: trial.user_attrs[k] for k in METRIC_KEYS if k in trial.user_attrs},
        "duration_s": trial.duration.total_seconds() if trial.duration else None,
    }


def summarize(queue: TrialQueue, storage_url: str) -> dict[str, Any]:
    study, config = queue.study, queue.config
    state = queue.progress()
    stale = queue.stale_numbers()
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if not complete:
        best: list[dict[str, Any]] = []
    elif len(config.objectives) == 1:
        best = [trial_summary(study.best_trial)]
    else:
        best = [trial_summary(t) for t in study.best_trials]
    return {
        "study": study.study_name,
        "storage": storage_url,
        "config": {k: v for k, v in config.to_user_attrs().items() if k != "extra"},
        "progress": state.to_dict(),
        "stale_running": stale,
        "best": best,
        "multi_objective": len(config.objectives) > 1,
        "time": _time_line(queue),
        "ended": _why_ended(state, config),
        "final_run": _final_run_line(study),
    }


def _final_run_line(study: optuna.Study) -> str | None:
    """``"trial 14, trial 8's configuration for 35 epochs (complete)"``, one per lane's run
    (``; `` between them); None before one starts. A run's epochs are its estimate until it ends."""
    finals = {}
    for trial in study.get_trials(deepcopy=False):  # a retry stands for the attempt it resumed
        if trial.user_attrs.get(TrialKeys.FINAL_EPOCHS):
            finals[(trial.system_attrs.get("retry_history") or [trial.number])[0]] = trial
    if not finals:
        return None
    return "; ".join(
        f"trial {t.number}, trial {t.user_attrs.get(TrialKeys.FINAL_OF)}'s configuration"
        f"{_grown(t.user_attrs.get(TrialKeys.FINAL_SIZE))} for "
        f"{t.user_attrs.get('epochs_trained') or t.user_attrs[TrialKeys.FINAL_EPOCHS]} epochs ({t.state.name.lower()})"
        for t in finals.values())


def _grown(size: dict[str, object] | None) -> str:
    return " grown to " + ", ".join(f"{k} {v}" for k, v in size.items()) if size else ""


def _time_line(queue: TrialQueue) -> str | None:
    """``"30m: 12m04s left"``; None without a time budget."""
    budget = queue.config.time_budget_s
    if budget is None:
        return None
    deadline = queue.deadline
    if deadline is None:
        return f"{format_duration(budget)}: starts with the first trial"
    left = (deadline - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
    return f"{format_duration(budget)}: {format_duration(left)} left" if left > 0 else f"{format_duration(budget)}: spent"


def _why_ended(state: Progress, config: StudyConfig) -> str | None:
    if not state.done:
        return None
    # A final run trains to the deadline: its study ends on the clock, whatever its trial budget.
    if state.time_up and (config.budget is None or state.waiting or config.final_share):
        return f"the time budget ({format_duration(config.time_budget_s or 0)}) ran out"
    return f"all {state.finished} trials of the budget ended"
