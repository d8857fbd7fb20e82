"""A study records its artifact folder once, absolute; every command finds it from anywhere.

Real `hpo` processes: a study made in one folder with the default ./artifacts, trained there,
then read from another folder, where nothing may appear.
"""

from __future__ import annotations

import os
from pathlib import Path

import optuna
import pytest

from tests.export.conftest import TINY_SPACE
from tests.helpers import run_hpo


def ok(*args: str, cwd: Path, env: dict[str, str] | None = None) -> str:
    before = os.getcwd()
    os.chdir(cwd)
    try:
        result = run_hpo(*args, env=env)
    finally:
        os.chdir(before)
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


@pytest.fixture(scope="module")  # the tests only read it: one study trained for the module
def trained(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, str]:
    """A study created and trained in ``home`` with no --artifacts (so ./artifacts)."""
    home = tmp_path_factory.mktemp("locations") / "home"
    home.mkdir()
    storage = f"sqlite:///{home / 'hpo.db'}"
    ok("study", "create", "loc", "--space", TINY_SPACE, "--dataset", "digits", "--trials", "1", "--epochs", "1",
       "--pruner", "none", "--storage", storage, cwd=home)
    ok("worker", "loc", "--storage", storage, cwd=home)
    return home, storage


def test_study_create_records_the_default_folder_absolute(trained: tuple[Path, str]) -> None:
    home, storage = trained
    recorded = optuna.load_study(study_name="loc", storage=storage).user_attrs["extra"]["artifacts"]
    assert recorded == str(home / "artifacts") and os.path.isabs(recorded)
    assert any((home / "artifacts").iterdir())


def test_a_relative_folder_is_recorded_absolute_and_a_url_as_given(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    for name, given, expected in (("rel", "some/arts", str(tmp_path / "some" / "arts")), ("s3", "s3://bucket", "s3://bucket")):
        ok("study", "create", name, "--space", TINY_SPACE, "--dataset", "digits", "--trials", "1",
           "--storage", storage, "--artifacts", given, cwd=tmp_path)
        assert optuna.load_study(study_name=name, storage=storage).user_attrs["extra"]["artifacts"] == expected


def test_export_and_report_work_from_another_folder_and_create_nothing_there(trained: tuple[Path, str], tmp_path: Path) -> None:
    _home, storage = trained
    away = tmp_path / "away"
    away.mkdir()
    ok("export", "loc", "--storage", storage, "--out", str(away / "best.pt"), "--no-program", cwd=away)
    ok("report", "loc", "--storage", storage, "--out", str(away / "report"), "--no-screenshot", cwd=away)
    assert sorted(p.name for p in away.iterdir()) == ["best.pt", "report"]
    assert "loss_curves.png" in os.listdir(away / "report")  # the curves were found in the study's folder


def test_hpo_artifacts_overrides_the_recorded_folder_and_a_reader_creates_none(trained: tuple[Path, str], tmp_path: Path) -> None:
    _home, storage = trained
    elsewhere = tmp_path / "not-there"
    before = os.getcwd()
    os.chdir(tmp_path)
    try:
        result = run_hpo("export", "loc", "--storage", storage, "--out", str(tmp_path / "x.pt"),
                         env={"HPO_ARTIFACTS": str(elsewhere)})
    finally:
        os.chdir(before)
    assert result.returncode == 1 and "cannot fetch artifact" in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert not elsewhere.exists() and not (tmp_path / "x.pt").exists()
