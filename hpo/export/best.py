"""Export: the chosen trial's stored weights -> a sealed, self-describing checkpoint."""

from __future__ import annotations

import datetime
from pathlib import Path
from typing import Any

import optuna
from optuna.trial import FrozenTrial, TrialState

from hpo import artifacts
from hpo.errors import HpoError, UsageError
from hpo.trials.records import TrialKeys


def pick_trial(study: optuna.Study, number: int | None = None) -> FrozenTrial:
    """Trial ``number``, or the best completed trial (single objective)."""
    complete = study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    if number is not None:
        for trial in complete:
            if trial.number == number:
                return trial
        numbers = ", ".join(str(t.number) for t in complete) or "none"
        raise UsageError(f"trial {number} of study {study.study_name!r} is not a completed trial (completed: {numbers})")
    if not complete:
        raise HpoError(
            f"study {study.study_name!r} has no completed trial yet; run `hpo worker {study.study_name}` first"
        )
    if len(study.directions) > 1:
        pareto = ", ".join(str(t.number) for t in study.best_trials)
        raise UsageError(f"study {study.study_name!r} is multi-objective; pick one Pareto trial with --trial N ({pareto})")
    return study.best_trial


def export_trial(
    study: optuna.Study, trial: FrozenTrial, out: str | Path, artifact_location: str | None = None
) -> dict[str, Any]:
    """Write ``trial``'s model to ``out``; returns the checkpoint's meta with its sha256."""
    # torch, which pick_trial's callers may not need yet (a missing trial is one line without it).
    from hpo.checkpoint import load_checkpoint, save_checkpoint
    from hpo.export.model_io import SEARCH_WEIGHTS

    artifact_id = trial.user_attrs.get(TrialKeys.MODEL)
    if not artifact_id:
        raise HpoError(f"trial {trial.number} has no stored model ({TrialKeys.MODEL} user attr missing)")
    store = artifacts.open_store(artifacts.study_location(study.user_attrs, artifact_location), create=False)
    path = artifacts.download_to_temp(store, artifact_id)
    try:
        checkpoint = load_checkpoint(path)
    finally:
        path.unlink(missing_ok=True)
    meta = dict(checkpoint["meta"])
    meta.update(
        study=study.study_name,
        trial=trial.number,
        values=trial.values,
        weights=SEARCH_WEIGHTS,
        exported_at=datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
    )
    sha = save_checkpoint(out, checkpoint["state_dict"], meta)
    return {**meta, "sha256": sha}
