"""Bad input that costs budget or leaves debris (issue 27), with real processes: a create
killed half-way, a study deleted under its worker, the image size of a study, read-only
commands in a folder without hpo.db, `hpo report` without its extra."""

from __future__ import annotations

import datetime
import os
import signal
import time
from pathlib import Path

import optuna
import pytest
from PIL import Image

from tests.badinput import one_line, run_in, snapshot
from tests.conftest import free_port, hpo_cmd

import subprocess


def _start(cwd: Path, *args: str, env: dict[str, str] | None = None, log: Path | None = None) -> subprocess.Popen[str]:
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(hpo_cmd(*args), stdout=out, stderr=subprocess.STDOUT, text=True, cwd=cwd,
                            env={**os.environ, **(env or {})}, start_new_session=True)


def _until(check, timeout: float = 180, what: str = "") -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


@pytest.mark.slow  # a 20,000-slot create, killed and redone
def test_a_create_killed_half_way_is_marked_and_healed(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    args = ("study", "create", "big", "--space", "cnn", "--dataset", "synthetic", "--trials", "20000", "--epochs", "1")
    proc = _start(tmp_path, *args)

    def begun() -> bool:
        try:
            return "space" in optuna.load_study(study_name="big", storage=storage).user_attrs
        except Exception:  # not there yet, or the file is being made
            return False

    _until(begun, what="the create to write its config")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    # show and worker say what it is and what to do; list marks it
    one_line(run_in(tmp_path, "study", "show", "big"), 1, "hpo study delete big --yes")
    one_line(run_in(tmp_path, "worker", "big"), 1, "is unfinished")
    listed = run_in(tmp_path, "study", "list")
    assert "big (unfinished)" in listed.stdout, listed.stdout
    # create without --if-exists skip names the fix; a young half-made study is not replaced by skip yet
    one_line(run_in(tmp_path, *args), 1, "is unfinished")
    # an abandoned one (begun long ago) is replaced by --if-exists skip: compose's creator heals on restart
    old = (datetime.datetime.now(datetime.timezone.utc) - datetime.timedelta(hours=1)).isoformat()
    optuna.load_study(study_name="big", storage=storage).set_user_attr("creating_since", old)
    small = ("study", "create", "big", "--space", "cnn", "--dataset", "synthetic", "--trials", "3", "--epochs", "1")
    healed = run_in(tmp_path, *small, "--if-exists", "skip")
    assert healed.returncode == 0 and "replacing it" in healed.stderr, healed.stderr
    study = optuna.load_study(study_name="big", storage=storage)
    assert "hpo_config_version" in study.user_attrs and len(study.trials) == 3
    # and study delete removes a half-made one
    proc = _start(tmp_path, "study", "create", "big2", *args[3:])
    _until(lambda: "big2" in [s.study_name for s in optuna.get_all_study_summaries(storage)], what="big2")
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert run_in(tmp_path, "study", "delete", "big2", "--yes").returncode == 0
    assert [s.study_name for s in optuna.get_all_study_summaries(storage)] == ["big"]


@pytest.mark.slow  # a worker process trains while its study is deleted
def test_a_worker_whose_study_is_deleted_says_so_and_exits(tmp_path: Path) -> None:
    env = {"HPO_SLEEP_SECONDS": "30"}
    assert run_in(tmp_path, "study", "create", "d", "--space", "sleep", "--dataset", "synthetic", "--trials", "3",
                  "--epochs", "4", "--pruner", "none", env=env).returncode == 0
    log = tmp_path / "worker.log"
    worker = _start(tmp_path, "worker", "d", env=env, log=log)
    _until(lambda: "epoch 1/4" in log.read_text(), what="the first epoch")
    assert run_in(tmp_path, "study", "delete", "d", "--yes").returncode == 0
    code = worker.wait(timeout=120)
    text = log.read_text()
    assert code == 0 and "Traceback" not in text and "KeyError" not in text, text
    assert "study 'd' was deleted while trial 0 ran; stopping" in text, text


def _images(root: Path) -> None:
    for c, cls in enumerate(("a", "b")):
        (root / cls).mkdir(parents=True)
        for i in range(6):
            Image.new("RGB", (24, 24), (40 * c + i, 100, 200)).save(root / cls / f"{i}.png")


@pytest.mark.slow  # two worker processes train on image folders
def test_the_image_size_belongs_to_the_study(tmp_path: Path) -> None:
    _images(tmp_path / "pics")
    created = run_in(tmp_path, "study", "create", "img", "--space", "cnn", "--dataset", "imagefolder:pics", "--trials", "2",
                     "--epochs", "1", "--pruner", "none", env={"HPO_IMAGE_SIZE": "16"})
    assert created.returncode == 0, created.stderr
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    assert optuna.load_study(study_name="img", storage=storage).user_attrs["dataset"].endswith("pics#px=16")
    for size in ("40", "8"):  # each worker's own HPO_IMAGE_SIZE no longer counts
        ran = run_in(tmp_path, "worker", "img", "--max-trials", "1", env={"HPO_IMAGE_SIZE": size})
        assert ran.returncode == 0, ran.stderr[-2000:]
    import torch

    for trial in optuna.load_study(study_name="img", storage=storage).trials:
        out = tmp_path / f"t{trial.number}.pt"
        assert run_in(tmp_path, "export", "img", "--trial", str(trial.number), "--out", str(out)).returncode == 0
        assert torch.load(out, weights_only=True)["meta"]["input_shape"] == [3, 16, 16]


@pytest.mark.parametrize("args", [
    ("worker", "base"), ("export", "base", "--out", "best.pt"), ("report", "base", "--no-screenshot"),
    ("retrain", "base"), ("study", "show", "base"), ("study", "list"), ("evaluate", "best.pt"),
], ids=["worker", "export", "report", "retrain", "show", "list", "evaluate"])
def test_read_only_commands_create_no_database(args: tuple[str, ...], tmp_path: Path) -> None:
    result = run_in(tmp_path, *args)
    if args[:2] != ("study", "list"):
        assert result.returncode != 0 and "Traceback" not in result.stderr, result.stderr
    assert not (tmp_path / "hpo.db").exists()


def test_the_dashboard_in_a_folder_without_hpo_db_makes_none(tmp_path: Path) -> None:
    # A free port, so only the missing file can stop it (a dashboard that starts serves until
    # the timeout, and fails the test that way); no browser is involved.
    result = run_in(tmp_path, "dashboard", "--port", str(free_port()), timeout=90)
    one_line(result, 1, "no storage at sqlite:///hpo.db (no such file); create a study with `hpo study create`")
    assert "http://" not in result.stdout + result.stderr
    assert list(tmp_path.iterdir()) == []


def test_report_without_its_extra_leaves_no_folder(tmp_path: Path) -> None:
    assert run_in(tmp_path, "study", "create", "r", "--space", "cnn", "--dataset", "synthetic", "--trials", "1").returncode == 0
    shadow = tmp_path / "uninstalled"
    (shadow / "plotly").mkdir(parents=True)
    (shadow / "plotly" / "__init__.py").write_text("raise ImportError('No module named plotly')\n")
    env = {"PYTHONPATH": f"{shadow}{os.pathsep}{os.environ.get('PYTHONPATH', '')}"}
    before = snapshot(f"sqlite:///{tmp_path / 'hpo.db'}")
    one_line(run_in(tmp_path, "report", "r", "--out", "rep", env=env), 1, "pip install 'hpo[report]'")
    assert not (tmp_path / "rep").exists() and not (tmp_path / "docs").exists()
    assert snapshot(f"sqlite:///{tmp_path / 'hpo.db'}") == before
