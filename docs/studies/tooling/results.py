"""A docs study's results per design and seed, from `hpo report`'s report.json and the storage.

Every per-trial number a page reads goes through the accessors here: what a trial recorded
beyond report.json (loss curves, gradient norms) is read by :func:`loss_curves` and
:func:`grad_norms` only, so where those live (user attrs today) is one place to change.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from hpo.trials import TrialKeys

Trial = dict[str, Any]  # one trial of report.json, plus "attrs": what the storage adds


def loss_curves(trial: Trial) -> dict[str, list[Any]] | None:
    """{"epoch", "train_loss", "val_loss"} lists of a trial, when it recorded them."""
    curves = trial.get("attrs", {}).get(TrialKeys.LOSS_CURVES)
    return curves if curves and curves.get("train_loss") else None


def grad_norms(trial: Trial) -> dict[str, float]:
    """Per-layer gradient norms of the first epoch (layer name -> norm), when recorded."""
    return trial.get("attrs", {}).get(TrialKeys.GRAD_NORMS) or {}


def trial_attrs(storage: str | None, study: str) -> dict[int, dict[str, Any]]:
    """Trial number -> what the pages read beyond report.json (empty without a storage)."""
    if not storage:
        return {}
    import optuna

    from hpo.trials import study_store, trial_diagnostics

    try:
        loaded = optuna.load_study(study_name=study, storage=storage)
    except KeyError:  # no such study in this storage
        return {}
    # Curves and gradient norms live in each trial's curves file (older trials: user attrs).
    store = study_store(loaded.user_attrs)
    return {t.number: trial_diagnostics(t, store) for t in loaded.get_trials(deepcopy=False)}


# --- Metrics: trial -> number (None when the trial did not record it) ----------------------------

Metric = Callable[[Trial], "float | None"]


def accuracy(t: Trial) -> float | None:
    return t["values"][0] if t.get("values") else None


def first_epoch_accuracy(t: Trial) -> float | None:
    curve = t.get("curve") or {}
    return curve[min(curve, key=int)] if curve else None


def seconds_per_epoch(t: Trial) -> float | None:
    m = t.get("metrics", {})
    return m["train_seconds"] / m["epochs_trained"] if m.get("train_seconds") and m.get("epochs_trained") else None


def n_params(t: Trial) -> float | None:
    value = t.get("metrics", {}).get("n_params")
    return float(value) if value is not None else None


def gradient_ratio(t: Trial) -> float | None:
    """First conv layer's epoch-1 gradient norm over the last conv layer's (input side over
    output side); below 1, less gradient reaches the input side. Other layers are left out."""
    convs = [v for k, v in grad_norms(t).items() if "Conv" in k]
    return convs[0] / convs[-1] if len(convs) >= 2 and convs[-1] else None


def overfit_gap(t: Trial) -> float | None:
    """Final validation loss minus final training loss."""
    curves = loss_curves(t)
    if not curves or curves["val_loss"][-1] is None:
        return None
    return float(curves["val_loss"][-1] - curves["train_loss"][-1])


def loss_rises(t: Trial) -> float | None:
    """How often the validation loss rose from one epoch to the next (unsteadiness)."""
    curves = loss_curves(t)
    if not curves:
        return None
    clean = [v for v in curves["val_loss"] if v is not None]
    return float(sum(b > a for a, b in zip(clean, clean[1:])))


METRICS: dict[str, tuple[str, Metric]] = {  # name -> (what a page calls it, how it is read)
    "accuracy": ("validation accuracy", accuracy),
    "first_epoch_accuracy": ("validation accuracy after epoch 1", first_epoch_accuracy),
    "seconds_per_epoch": ("seconds per epoch", seconds_per_epoch),
    "n_params": ("parameters", n_params),
    "gradient_ratio": ("first / last conv gradient norm", gradient_ratio),
    "overfit_gap": ("validation minus training loss", overfit_gap),
    "loss_rises": ("epochs where validation loss rose", loss_rises),
}


@dataclass
class Designs:
    """A docs study's complete trials by design name and seed (TrialKeys.REPLICATE)."""

    key: str  # the param that names the design ("design", "step")
    trials: dict[str, dict[int, Trial]] = field(default_factory=dict)

    def seeds(self, design: str, metric: str) -> dict[int, float]:
        """seed -> the metric, for the design's trials that recorded it."""
        read = METRICS[metric][1]
        found = {s: read(t) for s, t in self.trials.get(design, {}).items()}
        return {s: v for s, v in found.items() if v is not None}

    def curves(self, design: str) -> list[list[float]]:
        """Each seed's validation curve (epoch order)."""
        return [[t["curve"][k] for k in sorted(t["curve"], key=int)] for t in self.trials.get(design, {}).values()
                if t.get("curve")]


def designs(report: Mapping[str, Any], attrs: Mapping[int, dict[str, Any]], key: str) -> Designs:
    """Group report.json's complete trials by their ``key`` param and seed."""
    found = Designs(key)
    for t in report["trials"]:
        if t["state"] != "COMPLETE" or not t.get("values") or key not in t["params"]:
            continue
        seed = t.get("replicate")
        seed = t["number"] if seed is None else seed
        found.trials.setdefault(t["params"][key], {})[seed] = {**t, "attrs": attrs.get(t["number"], {})}
    return found
