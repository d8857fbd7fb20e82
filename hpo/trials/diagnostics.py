"""A trial's curves: the loss curves and first-epoch gradient norms, kept in a file of their own.

They are long (a number per epoch and per layer), so the worker stores them as a JSON
artifact listed with the trial (:data:`CURVES_FILE`) and records only its id
(``TrialKeys.CURVES``); user attrs stay short enough to read on the dashboard's trial page
and in ``optuna trials``. :func:`trial_diagnostics` is how every reader gets them back, from
that file, or from the user attrs of trials recorded before the file existed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from optuna.trial import FrozenTrial

from hpo import artifacts
from hpo.trials.records import TrialKeys

CURVES_FILE = "trial{number}-curves.json"
DIAGNOSTIC_KEYS = (TrialKeys.GRAD_NORMS, TrialKeys.LOSS_CURVES)


def write_curves_file(folder: str | Path, number: int, diagnostics: dict[str, Any]) -> Path:
    """``diagnostics`` (the training run's, keyed by :data:`DIAGNOSTIC_KEYS`) as a JSON file in ``folder``."""
    path = Path(folder) / CURVES_FILE.format(number=number)
    path.write_text(json.dumps({k: diagnostics[k] for k in DIAGNOSTIC_KEYS if k in diagnostics}), encoding="utf-8")
    return path


def trial_diagnostics(trial: FrozenTrial, store: Any | None) -> dict[str, Any]:
    """The trial's ``grad_norms_epoch1`` and ``loss_curves`` (those it has), else {}.

    Read from its curves file in ``store``; trials recorded before the file have them as user
    attrs. A file the store no longer holds gives {}, as for a trial that recorded none.
    """
    legacy = {k: trial.user_attrs[k] for k in DIAGNOSTIC_KEYS if k in trial.user_attrs}
    artifact_id = trial.user_attrs.get(TrialKeys.CURVES)
    if legacy or not artifact_id or store is None:
        return legacy
    try:
        with store.open_reader(artifact_id) as f:
            found = json.loads(f.read().decode("utf-8"))
    except Exception:  # missing file or folder, unreachable bucket, damaged JSON: nothing to show
        return {}
    return {k: found[k] for k in DIAGNOSTIC_KEYS if isinstance(found, dict) and k in found}


def study_store(study_user_attrs: dict[str, Any], explicit: str | None = None) -> Any:
    """The study's artifact store, for reading (never creates a folder)."""
    return artifacts.open_store(artifacts.study_location(study_user_attrs, explicit), create=False)
