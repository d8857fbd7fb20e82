"""The note a person reads on a completed trial's dashboard page (optuna-dashboard's note API).

Model, size, epochs, the final metrics as a table, and the loss-curve PNG (an artifact of the
trial, which the dashboard serves at ``/artifacts/STUDY_ID/TRIAL_ID/ARTIFACT_ID``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import optuna

from hpo.trials import _optuna
from hpo.trials.records import METRIC_KEYS

NOTE_METRICS = tuple(k for k in METRIC_KEYS if k.startswith("val_")) + ("latency_ms", "train_seconds")


def _value(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4f}" if abs(value) < 1000 else f"{value:,.0f}"
    return str(value)


def describe_model(spec: Mapping[str, Any]) -> str:
    """``cnn: n_layers=3, channels=32, ...`` from a model spec."""
    rest = ", ".join(f"{k}={v}" for k, v in spec.items() if k != "arch")
    return f"{spec.get('arch', 'model')}" + (f": {rest}" if rest else "")


def trial_note(number: int, model: Mapping[str, Any], n_params: int, epochs: int, planned_epochs: int,
               metrics: Mapping[str, Any], plot_url: str | None) -> str:
    """The Markdown body of a completed trial's note."""
    lines = [f"## Trial {number}", "",
             f"- **Model:** `{describe_model(model)}`",
             f"- **Size:** {n_params:,} parameters",
             f"- **Epochs:** {epochs} of {planned_epochs}", "",
             "| metric | value |", "| --- | --- |"]
    lines += [f"| {k} | {_value(metrics[k])} |" for k in NOTE_METRICS if metrics.get(k) is not None]
    if plot_url:
        lines += ["", f"![loss curves of trial {number}]({plot_url})"]
    return "\n".join(lines) + "\n"


def artifact_url(trial: optuna.Trial, artifact_id: str) -> str:
    """Where optuna-dashboard serves a trial's artifact (site-relative)."""
    return f"/artifacts/{_optuna.study_id(trial.study)}/{_optuna.trial_id(trial)}/{artifact_id}"


def save_trial_note(trial: optuna.Trial, body: str) -> None:
    """Write ``body`` as the trial's note (a new version of it, as the dashboard's editor does)."""
    from hpo.trials._dashboard_note import save_note

    save_note(trial, body)
