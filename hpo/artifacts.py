"""The artifact store that holds checkpoints: optuna.artifacts, on a folder by default.

The location comes from ``--artifacts``, else ``HPO_ARTIFACTS``, else the folder recorded in
the study when it was created, else ./artifacts. An ``s3://BUCKET`` location uses Optuna's
Boto3ArtifactStore, configured the way boto3 always is (AWS_* variables, AWS_ENDPOINT_URL for
S3-compatible stores); see docs/distributed.md.
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore, download_artifact, upload_artifact

from hpo.errors import HpoError, UsageError

DEFAULT_FOLDER = "artifacts"


def resolve_location(explicit: str | None = None, recorded: str | None = None) -> str:
    return explicit or os.environ.get("HPO_ARTIFACTS") or recorded or DEFAULT_FOLDER


def open_store(location: str) -> Any:
    """The artifact store at ``location``: a folder, or ``s3://BUCKET``."""
    if location.startswith("s3://"):
        return _open_s3(location)
    path = Path(location).expanduser()
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise HpoError(f"cannot use artifact folder {path}: {exc.strerror}; set --artifacts or HPO_ARTIFACTS") from None
    return FileSystemArtifactStore(str(path))


def _open_s3(location: str) -> Any:
    bucket, _, prefix = location.removeprefix("s3://").partition("/")
    if not bucket or prefix.strip("/"):
        # Optuna's store keys artifacts by id at the top of the bucket; it has no prefix.
        raise UsageError(f"artifact store {location!r} must be s3://BUCKET (no folder); give hpo a bucket of its own")
    try:
        from optuna.artifacts import Boto3ArtifactStore

        return Boto3ArtifactStore(bucket)
    except ImportError:
        raise UsageError(f"artifact store {location!r} needs boto3; pip install 'hpo[s3]'") from None


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
