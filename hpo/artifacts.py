"""The artifact store that holds checkpoints: optuna.artifacts, on a folder by default.

The location comes from ``--artifacts``, else ``HPO_ARTIFACTS``, else the folder recorded in
the study when it was created (``study create`` always records one, as an absolute path or a
URL: :func:`location_to_record`), else ./artifacts (studies made before that). So every command
finds a study's files from any working folder. Commands that only read (export, report,
dashboard) open the store with ``create=False``: they never leave an empty folder behind.
An ``s3://BUCKET`` location uses Optuna's
Boto3ArtifactStore, configured the way boto3 always is (AWS_* variables, AWS_ENDPOINT_URL for
S3-compatible stores); see docs/distributed.md.

Listed and unlisted files: :func:`upload_file` links a file to its trial the way
``optuna.artifacts.upload_artifact`` does (metadata in the trial's system attrs), so
optuna-dashboard lists it; use it for files that are kept, such as a trial's final model.
:func:`store_unlisted` writes a file under a fresh id without that metadata; use it for
transient files that are deleted later, such as resume checkpoints. Optuna cannot change a
finished trial's system attrs, so a listed file deleted after the trial ends would stay listed
for good, pointing at nothing.
"""

from __future__ import annotations

import io
import mimetypes
import os
import re
import tempfile
import uuid
from pathlib import Path
from typing import Any

import optuna
from optuna.artifacts import FileSystemArtifactStore, download_artifact, upload_artifact
from optuna.artifacts.exceptions import ArtifactNotFound

from hpo.errors import HpoError, UsageError

DEFAULT_FOLDER = "artifacts"

# Media types for the files hpo stores, by suffix. The system's table may guess wrong: Debian's
# /etc/mime.types maps .pt to application/vnd.snesdev-page-table (a SNES ROM format).
MIMETYPES = {
    ".pt": "application/octet-stream",
    ".pth": "application/octet-stream",
    ".ckpt": "application/octet-stream",
    ".onnx": "application/octet-stream",
}


def mimetype_of(filename: str) -> str | None:
    """The media type hpo serves ``filename`` as, when hpo knows its suffix; else None."""
    return MIMETYPES.get(os.path.splitext(filename)[1].lower())


def register_mimetypes() -> None:
    """Teach this process's :mod:`mimetypes` hpo's suffixes (optuna and the dashboard guess by them)."""
    for suffix, mimetype in MIMETYPES.items():
        mimetypes.add_type(mimetype, suffix)


def resolve_location(explicit: str | None = None, recorded: str | None = None) -> str:
    """``explicit`` (``--artifacts`` or ``HPO_ARTIFACTS``, resolved by the caller's settings),
    else the store ``recorded`` in the study at create time, else ./artifacts."""
    return explicit or recorded or DEFAULT_FOLDER


def check_location(location: str) -> str:
    """``location`` if hpo can store artifacts there (a folder, or s3://BUCKET); else a UsageError.

    A URL of another scheme (ftp://, gs://) would otherwise be written to as a local folder
    named ``ftp:``, or stored in the study as is and fail in every worker.
    """
    scheme = re.match(r"^([A-Za-z][A-Za-z0-9+.-]*)://", location)
    if scheme and scheme.group(1).lower() != "s3":
        raise UsageError(f"artifact store {location!r} uses {scheme.group(1)}://, which hpo cannot write; "
                         "use a folder or s3://BUCKET (--artifacts or HPO_ARTIFACTS)")
    return location


def location_to_record(explicit: str | None) -> str:
    """What ``study create`` records: a URL as given, a folder (``explicit`` or ./artifacts) absolute."""
    location = explicit or DEFAULT_FOLDER
    return location if "://" in location else os.path.abspath(os.path.expanduser(location))


def recorded_location(study_user_attrs: dict[str, Any]) -> str | None:
    """The store a study recorded at create time (its config's ``extra``), if any."""
    extra = study_user_attrs.get("extra")
    location = extra.get("artifacts") if isinstance(extra, dict) else None
    return location if isinstance(location, str) and location else None


def study_location(study_user_attrs: dict[str, Any], explicit: str | None = None) -> str:
    """Where a study's artifacts are: ``explicit`` (flag or HPO_ARTIFACTS), else its recorded store."""
    return resolve_location(explicit, recorded_location(study_user_attrs))


def open_store(location: str, create: bool = True) -> Any:
    """The artifact store at ``location``: a folder, or ``s3://BUCKET``.

    ``create=False`` (readers) leaves a missing folder missing: its artifacts are simply not found.
    """
    check_location(location)
    if location.startswith("s3://"):
        return _open_s3(location)
    path = Path(location).expanduser()
    if create:
        try:
            path.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise HpoError(f"cannot use artifact folder {path}: {exc.strerror}; set --artifacts or HPO_ARTIFACTS") from None
    return FileSystemArtifactStore(str(path))


def check_writable(store: Any, location: str) -> None:
    """Write and remove a small file, or raise: a worker that cannot store checkpoints and models
    would train every trial and then fail it, burning the whole budget."""
    probe = f"hpo-write-check-{uuid.uuid4()}"
    try:
        store.write(probe, io.BytesIO(b"ok"))
    except Exception as exc:  # the store's own errors vary by backend
        raise HpoError(f"cannot write to artifact store {location} ({type(exc).__name__}: "
                       f"{str(exc).strip().splitlines()[0] if str(exc).strip() else 'no detail'}); fix its "
                       "permissions or pass another --artifacts / HPO_ARTIFACTS") from None
    remove_quietly(store, probe)


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
    """Upload ``path`` and link it to ``trial`` (optuna-dashboard lists it); returns the artifact id."""
    return upload_artifact(artifact_store=store, file_path=path, study_or_trial=trial, storage=storage,
                           mimetype=mimetype_of(path))


def store_unlisted(store: Any, path: str) -> str:
    """Write ``path`` under a fresh artifact id, linked to no trial or study; returns the id.

    Nothing records it but the id the caller keeps, so deleting it later
    (:func:`remove_quietly`) leaves no listing behind.
    """
    artifact_id = str(uuid.uuid4())
    with open(path, "rb") as f:
        store.write(artifact_id, f)
    return artifact_id


def exists(store: Any, artifact_id: str) -> bool:
    """Whether the store holds ``artifact_id``. Errors other than "not found" propagate."""
    client, bucket = getattr(store, "client", None), getattr(store, "bucket", None)
    if client is not None and isinstance(bucket, str) and hasattr(client, "head_object"):
        # Boto3ArtifactStore: a HEAD request, not a download.
        from botocore.exceptions import ClientError

        try:
            client.head_object(Bucket=bucket, Key=artifact_id)
        except ClientError as exc:
            if str(exc.response.get("Error", {}).get("Code")) in ("404", "NoSuchKey", "NotFound"):
                return False
            raise
        return True
    try:
        store.open_reader(artifact_id).close()
    except ArtifactNotFound:
        return False
    return True


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
