"""The names optuna-dashboard shows for a study's objectives: the metrics they are read from.

Without them the dashboard labels objectives "Objective 0", "Objective 1". ``study create``
sets them with Optuna's ``study.set_metric_names`` (stored in the study's system attrs, so an
unmodified optuna-dashboard and Optuna's own API read them). For studies created before that,
:func:`names_from_user_attrs` derives them from the stored config, and `hpo dashboard` shows
those without writing to the storage.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping, Sequence
from typing import Any

import optuna

from hpo.config import MARKER, OBJECTIVES


def metric_names(objectives: Sequence[str]) -> list[str]:
    """The metric each objective is read from: ``["accuracy", "latency"]`` -> ``["val_accuracy", "latency_ms"]``."""
    return [OBJECTIVES[name][1] for name in objectives]


def label_objectives(study: optuna.Study, objectives: Sequence[str]) -> None:
    """Name ``study``'s objectives after their metrics (``study.set_metric_names``)."""
    with warnings.catch_warnings():
        # Optuna marks set_metric_names experimental; a user of `study create` cannot act on that.
        warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
        study.set_metric_names(metric_names(objectives))


def names_from_user_attrs(user_attrs: Mapping[str, Any], n_directions: int) -> list[str] | None:
    """The metric names of an hpo study, from its stored config; None if it has no usable one."""
    if MARKER not in user_attrs:
        return None
    objectives = user_attrs.get("objectives", ["accuracy"])
    if not isinstance(objectives, list) or len(objectives) != n_directions:
        return None
    if not all(isinstance(name, str) and name in OBJECTIVES for name in objectives):
        return None
    return metric_names(objectives)
