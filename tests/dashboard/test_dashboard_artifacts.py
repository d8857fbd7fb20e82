"""The dashboard lists only artifacts the store still holds, serves models as octet-stream, and
labels objectives with their metric names.

A real study (`hpo study create` + `hpo worker`, checkpointing every epoch) on the synthetic set,
then optuna-dashboard as `hpo dashboard` builds it, over HTTP.
"""

from __future__ import annotations

import json
import os
import urllib.error
import urllib.request
import warnings
from pathlib import Path
from typing import Any

import optuna
import torch
import pytest
from optuna.artifacts import FileSystemArtifactStore, upload_artifact

from hpo.config import StudyConfig
from hpo.studies.metric_names import label_objectives
from hpo.dashboard.server import serve_in_background
from tests.helpers import run_hpo

STORAGE = "sqlite:///hpo.db"
OLD_PT_TYPE = "application/vnd.snesdev-page-table"  # what Debian's /etc/mime.types guesses for .pt


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


def study_detail(base: str, study: optuna.Study) -> dict[str, Any]:
    status, content_type, body = get(f"{base}/api/studies/{study._study_id}")
    assert status == 200 and content_type.startswith("application/json"), (status, body[:300])
    return json.loads(body)


def write_pt(path: Path) -> str:
    torch.save({"w": torch.arange(4)}, path)
    return str(path)


@pytest.mark.slow
def test_artifact_list_has_only_existing_files_and_models_are_octet_streams(tmp_path: Path) -> None:
    created = run_hpo("study", "create", "arts", "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                      "--epochs", "2", "--pruner", "none", "--no-warm-start")
    assert created.returncode == 0, created.stderr
    worked = run_hpo("worker", "arts", env={"HPO_CHECKPOINT_RATIO": "0"})  # a checkpoint after every epoch
    assert worked.returncode == 0, worked.stderr

    study = optuna.load_study(study_name="arts", storage=STORAGE)
    models = {t.user_attrs["model_artifact_id"] for t in study.trials}
    checkpoints = {t.user_attrs["resume_artifact_id"]: t._trial_id for t in study.trials}
    assert len(models) == 2 and len(checkpoints) == 2

    # What older workers left: a trial lists a checkpoint that was deleted after the trial
    # ended, and a model whose type was guessed from the system's table.
    store = FileSystemArtifactStore("artifacts")
    trial = study.ask()
    deleted = upload_artifact(artifact_store=store, file_path=write_pt(tmp_path / "trial2-epoch1.pt"),
                              study_or_trial=trial, mimetype=OLD_PT_TYPE)
    old_model = upload_artifact(artifact_store=store, file_path=write_pt(tmp_path / "trial2-model.pt"),
                                study_or_trial=trial, mimetype=OLD_PT_TYPE)
    study.tell(trial, 0.5)
    store.remove(deleted)
    on_disk = set(os.listdir("artifacts"))
    assert not set(checkpoints) & on_disk  # workers delete a finished trial's last checkpoint

    with serve_in_background(STORAGE, "artifacts") as base:
        detail = study_detail(base, study)
        listed = {a["artifact_id"]: (t, a) for t in detail["trials"] for a in t["artifacts"]}
        assert set(listed) <= on_disk
        # Besides the models: each trial's curves (JSON) and loss-curve PNG, served as such.
        pages = {t.user_attrs[key]: kind for t in study.trials if "curves_artifact_id" in t.user_attrs
                 for key, kind in (("curves_artifact_id", "application/json"), ("loss_plot_artifact_id", "image/png"))}
        assert set(listed) == models | {old_model} | set(pages)
        for artifact_id, kind in pages.items():
            assert listed[artifact_id][1]["mimetype"] == kind

        for artifact_id, (trial_json, meta) in ((k, v) for k, v in listed.items() if k not in pages):
            assert meta["mimetype"] == "application/octet-stream", meta
            url = f"{base}/artifacts/{study._study_id}/{trial_json['trial_id']}/{artifact_id}"
            status, content_type, body = get(url)
            assert (status, content_type) == (200, "application/octet-stream"), (meta, status, content_type)
            assert body == (Path("artifacts") / artifact_id).read_bytes()

        # A deleted file is "not found", not a server error; so is one the dashboard never knew.
        for artifact_id, trial_id in {**checkpoints, deleted: trial._trial_id}.items():
            status, _type, body = get(f"{base}/artifacts/{study._study_id}/{trial_id}/{artifact_id}")
            assert status == 404, (artifact_id, status, body[:300])


def test_objectives_are_labelled_with_their_metric_names() -> None:
    created = run_hpo("study", "create", "multi", "--space", "cnn", "--dataset", "synthetic", "--trials", "1",
                      "--epochs", "1", "--pruner", "none", "--objectives", "accuracy,latency")
    assert created.returncode == 0, created.stderr
    # An hpo study made before `study create` named its metrics: only its stored config says them.
    older = optuna.create_study(study_name="older", storage=STORAGE, directions=["minimize"])
    for key, value in StudyConfig(space="cnn", dataset="synthetic", budget=1, epochs=1, objectives=("loss",)).to_user_attrs().items():
        older.set_user_attr(key, value)
    # A study that names its metrics itself, and a plain Optuna study that does not.
    named = optuna.create_study(study_name="named", storage=STORAGE, directions=["maximize", "minimize"])
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # `study create` prints no experimental warning
        label_objectives(named, ["f1", "params"])
    assert named.metric_names == ["val_f1", "n_params"]
    optuna.create_study(study_name="plain", storage=STORAGE)

    with serve_in_background(STORAGE, "artifacts") as base:
        def names(study_name: str) -> list[str] | None:
            study = optuna.load_study(study_name=study_name, storage=STORAGE)
            return study_detail(base, study).get("objective_names")

        assert names("multi") == ["val_accuracy", "latency_ms"]
        assert names("older") == ["val_loss"]
        assert names("named") == ["val_f1", "n_params"]
        assert names("plain") is None  # not hpo's: left as Optuna made it
