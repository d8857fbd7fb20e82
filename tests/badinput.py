"""Helpers for the bad-input tests: one clear line, nothing changed, a user without root's
power over file modes."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
from pathlib import Path

import optuna
import pytest
from filelock import FileLock

from tests.conftest import hpo_cmd

# Root ignores file modes. The tests run as root, and this machine's interpreter lives under
# /root, which `nobody` cannot enter; so a permission case runs as root without the
# capabilities that override file modes (what makes root ignore them). As any other user it
# runs as that user, who is subject to file modes anyway.
_NO_OVERRIDE = ["setpriv", "--bounding-set=-dac_override,-dac_read_search,-fowner,-net_bind_service", "--inh-caps=-all"]


def unprivileged(cmd: list[str]) -> list[str]:
    return [*_NO_OVERRIDE, *cmd] if os.geteuid() == 0 else cmd


def run_hpo_as_user(*args: str, env: dict[str, str] | None = None, timeout: float = 300,
                    cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    """`hpo ARGS` in a subprocess for which file modes apply."""
    return subprocess.run(unprivileged(hpo_cmd(*args)), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def run_in(cwd: Path, *args: str, env: dict[str, str] | None = None, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(hpo_cmd(*args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})}, cwd=cwd)


def one_line(result: subprocess.CompletedProcess[str], exit_code: int, says: str) -> str:
    """Assert ``result`` failed with ``exit_code`` and exactly one ``error:`` line containing
    ``says``, and no traceback; returns that line."""
    output = result.stdout + result.stderr
    assert "Traceback" not in output, output[-3000:]
    errors = [line for line in result.stderr.splitlines() if line.startswith(("error:", "Error:"))]
    assert len(errors) == 1, output[-3000:]
    assert says in errors[0], errors[0]
    assert result.returncode == exit_code, (result.returncode, output[-3000:])
    return errors[0]


def snapshot(storage: str) -> list[tuple]:
    """Every study of ``storage``: its attrs, and each trial's state, params, values, attrs, curve."""
    rows = []
    for summary in sorted(optuna.get_all_study_summaries(storage=storage), key=lambda s: s.study_name):
        study = optuna.load_study(study_name=summary.study_name, storage=storage)
        trials = tuple((t.number, t.state.name, tuple(sorted(t.params.items())), tuple(t.values or ()),
                        tuple(sorted((k, repr(v)) for k, v in t.user_attrs.items())),
                        tuple(sorted(t.intermediate_values.items()))) for t in study.trials)
        rows.append((summary.study_name, tuple(sorted((k, repr(v)) for k, v in study.user_attrs.items())), trials))
    return rows


def files(folder: Path) -> dict[str, str]:
    """Every file under ``folder`` and its SHA-256: what a bad command must leave as it was."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file() and not p.name.endswith(("-wal", "-shm"))}
    # (SQLite's -wal and -shm files come and go with open connections, this test's included)


def make_base(folder: Path) -> None:
    """The issue's set-up, in ``folder``: study `base` (2 trials of 1 epoch) worked off, its best
    trial exported to best.pt (no .pt2 program: no case reads one, and torch.export takes seconds
    that every other test process waits out); the default ./hpo.db and ./artifacts."""
    for args in (("study", "create", "base", "--space", "cnn", "--dataset", "synthetic", "--trials", "2", "--epochs", "1"),
                 ("worker", "base"), ("export", "base", "--out", "best.pt", "--no-program")):
        result = run_in(folder, *args)
        assert result.returncode == 0, result.stderr[-3000:]


def shared_base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A :func:`make_base` folder built once per test run and shared by the modules that need
    one: each copies it (:func:`copy_base`) and never changes it. Under pytest-xdist the first
    process to ask builds it in the run's shared folder while the others wait on a lock.

    It is built where it stays: the study records its artifact store's absolute path, so the
    copies read the models from this folder's store.
    """
    root = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        root = root.parent  # each process has a folder of its own inside the run's
    folder, built = root / "bad-input-base", root / "bad-input-base.built"
    with FileLock(str(root / "bad-input-base.lock")):
        if not built.exists():  # a build cut short is not taken for one
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir()
            make_base(folder)
            built.touch()
    return folder


def copy_base(base: Path, to: Path) -> Path:
    """A fresh copy of a :func:`make_base` folder, for one test to break."""
    shutil.copytree(base, to)
    return to
