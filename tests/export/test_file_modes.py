"""Every file hpo writes honours the umask, so another user (a model server) can read it.

`tempfile.mkstemp` makes 0600 files whatever the umask; a rename keeps that mode.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from hpo.checkpoint import save_checkpoint
from hpo.files import atomic_target, current_umask, default_mode
from tests.conftest import hpo_cmd, missing
from tests.export.conftest import Exported


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def umask_027() -> Iterator[None]:
    before = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(before)


def test_atomic_files_get_the_umasks_mode(tmp_path: Path, umask_027: None) -> None:
    assert current_umask() == 0o027 and default_mode() == 0o640
    with atomic_target(tmp_path / "a.bin") as tmp:
        tmp.write_bytes(b"x")
    import torch

    save_checkpoint(tmp_path / "c.pt", {"w": torch.zeros(2)}, {"k": 1})
    assert mode(tmp_path / "a.bin") == 0o640 and mode(tmp_path / "c.pt") == 0o640
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []  # no temporary left


@pytest.fixture
def shared_folder() -> Iterator[Path]:
    """A folder another user may enter (pytest's own are 0700)."""
    folder = Path(tempfile.mkdtemp(prefix="hpo-modes-"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_exported_files_are_readable_by_another_user(exported: Exported, shared_folder: Path) -> None:
    """`hpo export` under umask 022: .pt, .pt2 and .onnx are 0644, and `nobody` reads them."""
    out = shared_folder / "best.pt"
    result = subprocess.run(hpo_cmd("export", exported.study, "--out", str(out), "--onnx", str(shared_folder / "best.onnx"),
                                    "--latency-repeats", "2"),
                            env={**os.environ, **exported.env}, capture_output=True, text=True, timeout=600,
                            preexec_fn=lambda: os.umask(0o022))
    assert result.returncode == 0, result.stderr[-2000:]
    files = [out, shared_folder / "best.pt2", shared_folder / "best.onnx"]
    assert {f.name: oct(mode(f)) for f in files} == {f.name: "0o644" for f in files}
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        missing("reading as another user needs root and setpriv")
    for f in files:
        read = subprocess.run(["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", "cat", str(f)],
                              capture_output=True, timeout=60)
        assert read.returncode == 0 and len(read.stdout) == f.stat().st_size, read.stderr
