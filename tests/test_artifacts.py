"""hpo.artifacts on a real folder store and a real SQLite study: listed and unlisted files, types."""

from __future__ import annotations

import mimetypes
import subprocess
import sys
from pathlib import Path

import optuna
import torch
from optuna.artifacts import get_all_artifact_meta

from hpo import artifacts


def trial_and_store(tmp_path: Path) -> tuple[optuna.Study, optuna.Trial, object]:
    study = optuna.create_study(storage=f"sqlite:///{tmp_path / 'a.db'}")
    return study, study.ask(), artifacts.open_store(str(tmp_path / "artifacts"))


def test_upload_file_lists_a_model_as_an_octet_stream(tmp_path: Path) -> None:
    study, trial, store = trial_and_store(tmp_path)
    torch.save({"w": torch.ones(2)}, tmp_path / "trial0-model.pt")
    artifact_id = artifacts.upload_file(store, str(tmp_path / "trial0-model.pt"), trial)
    [meta] = get_all_artifact_meta(trial)
    assert (meta.artifact_id, meta.filename, meta.mimetype) == (artifact_id, "trial0-model.pt", "application/octet-stream")
    assert artifacts.exists(store, artifact_id)


def test_unlisted_files_leave_no_metadata_behind(tmp_path: Path) -> None:
    study, trial, store = trial_and_store(tmp_path)
    (tmp_path / "trial0-epoch1.pt").write_bytes(b"checkpoint")
    artifact_id = artifacts.store_unlisted(store, str(tmp_path / "trial0-epoch1.pt"))
    assert artifacts.exists(store, artifact_id)
    assert (tmp_path / "artifacts" / artifact_id).read_bytes() == b"checkpoint"
    study.tell(trial, 1.0)
    artifacts.remove_quietly(store, artifact_id)
    artifacts.remove_quietly(store, artifact_id)  # twice: a missing file is fine
    assert not artifacts.exists(store, artifact_id)
    assert get_all_artifact_meta(study.trials[0], storage=study._storage) == []


def test_register_mimetypes_overrides_the_system_table() -> None:
    # In a fresh process: mimetypes is process-wide.
    code = ("import mimetypes; from hpo import artifacts; before = mimetypes.guess_type('m.pt')[0]; "
            "artifacts.register_mimetypes(); print(before, mimetypes.guess_type('m.pt')[0], mimetypes.guess_type('m.onnx')[0])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    assert out[1:] == ["application/octet-stream", "application/octet-stream"], out
    assert artifacts.mimetype_of("dir/Trial3-Model.PT") == "application/octet-stream"
    assert artifacts.mimetype_of("plot.png") is None
    assert mimetypes.guess_type("plot.png")[0] == "image/png"  # other suffixes keep the system's type
