"""The artifact store that holds checkpoints: optuna.artifacts, on a folder by default.

The location comes from ``--artifacts``, else ``HPO_ARTIFACTS``, else the folder recorded in
the study when it was created, else ./artifacts. For S3-compatible stores see the README
(Optuna's Boto3ArtifactStore).
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore, download_artifact, upload_artifact

from hpo.errors import HpoError

DEFAULT_FOLDER = "artifacts"


def resolve_location(explicit: str | None = None, recorded: str | None = None) -> str:
    return explicit or os.environ.get("HPO_ARTIFACTS") or recorded or DEFAULT_FOLDER


def open_store(location: str) -> FileSystemArtifactStore:
    path = Path(location).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HpoError(f"cannot use artifact folder {path}: {exc.strerror}; set --artifacts or HPO_ARTIFACTS") from None
    return FileSystemArtifactStore(str(path))


def upload_file(store: Any, path: str, trial: optuna.Trial | optuna.trial.FrozenTrial, storage: Any = None) -> str:
    """Upload ``path`` and link it to ``trial``; returns the artifact id."""
    return upload_artifact(artifact_store=store, file_path=path, study_or_trial=trial, storage=storage)


def download_to_temp(store: Any, artifact_id: str, suffix: str = ".pt") -> Path:
    """Fetch an artifact into a fresh temporary file the caller deletes."""
    fd, name = tempfile.mkstemp(suffix=suffix)
    os.close(fd)
    os.unlink(name)  # download_artifact refuses to overwrite
    try:
        download_artifact(artifact_store=store, file_path=name, artifact_id=artifact_id)
    except Exception as exc:  # the store's own errors vary by backend
        raise HpoError(f"cannot fetch artifact {artifact_id}: {exc}; is --artifacts / HPO_ARTIFACTS the study's store?") from None
    return Path(name)


def remove_quietly(store: Any, artifact_id: str) -> None:
    """Delete an artifact that is no longer needed; a missing one is fine."""
    try:
        store.remove(artifact_id)
    except Exception:  # best effort: a leftover file wastes space but breaks nothing
        pass
