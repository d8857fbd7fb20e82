"""Bad input that only a user without root's power over file modes meets (issue 27).

A read-only hpo.db, an artifact folder or output folder that cannot be written, a privileged
port: one line, at once, before any trial is claimed or trained, and nothing that existed
changes. Each case runs the real `hpo` command as such a user (tests.badinput.unprivileged).
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from tests.badinput import copy_base, files, one_line, run_hpo_as_user, shared_base, snapshot

CREATE = ("study", "create", "other", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--epochs", "1")


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = copy_base(shared_base(tmp_path_factory), tmp_path_factory.mktemp("base") / "base")
    # One more study with WAITING trials: what a worker would claim.
    from tests.badinput import run_in

    assert run_in(folder, "study", "create", "todo", "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                  "--epochs", "1").returncode == 0
    return folder


@pytest.fixture
def here(base: Path, tmp_path: Path) -> Path:
    return copy_base(base, tmp_path / "here")


def _read_only(path: Path) -> None:
    path.chmod(stat.S_IRUSR | stat.S_IRGRP | stat.S_IROTH | (stat.S_IXUSR | stat.S_IXGRP | stat.S_IXOTH if path.is_dir() else 0))


@pytest.mark.parametrize("command", [
    CREATE, ("study", "delete", "base", "--yes"), ("worker", "todo"), ("study", "recover", "base"),
], ids=["create", "delete", "worker", "recover"])
def test_a_read_only_hpo_db_is_one_line_for_commands_that_write(command: tuple[str, ...], here: Path) -> None:
    storage = f"sqlite:///{here / 'hpo.db'}"
    before, kept = snapshot(storage), files(here)
    _read_only(here / "hpo.db")
    result = run_hpo_as_user(*command, cwd=here)
    one_line(result, 1, f"storage {here / 'hpo.db'} is read-only for this user")
    assert "max length" not in result.stderr
    (here / "hpo.db").chmod(0o644)
    assert snapshot(storage) == before and files(here) == kept


def test_an_hpo_db_in_a_read_only_folder_is_one_line(here: Path) -> None:
    storage = f"sqlite:///{here / 'hpo.db'}"
    before = snapshot(storage)
    _read_only(here)
    try:
        result = run_hpo_as_user(*CREATE, cwd=here)
    finally:
        here.chmod(0o755)
    one_line(result, 1, f"is in folder {here}, which this user cannot write")
    assert snapshot(storage) == before


def test_a_worker_that_cannot_write_its_artifact_folder_claims_nothing(here: Path) -> None:
    storage = f"sqlite:///{here / 'hpo.db'}"
    before, kept = snapshot(storage), files(here)
    _read_only(here / "artifacts")
    try:
        # The study records its base folder's store (absolute): name this copy's folder instead.
        result = run_hpo_as_user("worker", "todo", "--artifacts", "artifacts", cwd=here)
    finally:
        (here / "artifacts").chmod(0o755)
    one_line(result, 1, "cannot write to artifact store artifacts (PermissionError")
    assert "trial 0" not in result.stderr  # nothing trained for nothing
    assert snapshot(storage) == before and files(here) == kept  # the budget is intact: all WAITING still


@pytest.mark.parametrize(("args", "says"), [
    (("export", "base", "--out", "locked/best.pt"), "cannot write --out locked/best.pt: folder"),
    (("export", "base", "--out", "locked/new/best.pt"), "cannot write --out locked/new/best.pt: folder"),
    (("export", "base", "--out", "ok.pt", "--onnx", "locked/best.onnx"), "cannot write --onnx locked/best.onnx"),
    (("report", "base", "--out", "locked/report"), "cannot write --out locked/report: folder"),
], ids=["export", "export-new-subfolder", "export-onnx", "report"])
def test_output_into_a_folder_that_cannot_be_written_is_one_line(args: tuple[str, ...], says: str, here: Path) -> None:
    (here / "locked").mkdir()
    _read_only(here / "locked")
    kept = files(here)
    try:
        result = run_hpo_as_user(*args, cwd=here)
    finally:
        (here / "locked").chmod(0o755)
    one_line(result, 1, says)
    assert files(here) == kept and not (here / "ok.pt").exists()


def test_a_privileged_port_is_one_line_before_any_url(here: Path) -> None:
    result = run_hpo_as_user("dashboard", "--port", "80", cwd=here, timeout=120)
    one_line(result, 1, "port 80 needs administrator rights")
    assert "http://" not in result.stdout + result.stderr


def test_the_user_really_cannot_write(here: Path) -> None:
    """The cases above mean something only if file modes apply to the commands they run."""
    import subprocess

    from tests.badinput import unprivileged

    _read_only(here / "hpo.db")
    try:
        probe = subprocess.run(unprivileged(["sh", "-c", f"echo x >> {here / 'hpo.db'}"]), capture_output=True, text=True)
    finally:
        (here / "hpo.db").chmod(0o644)
    assert probe.returncode != 0 and "Permission denied" in probe.stderr
    assert os.access(here / "hpo.db", os.W_OK)
