"""Bad input, round three (issue 27): the cases that need no special user, table-driven.

Each runs the real `hpo` command in a subprocess in a folder holding the issue's set-up
(study `base` worked off, best.pt and best.onnx exported) and checks one clear line, the exit
code, and that the storage and every file are exactly as they were.
"""

from __future__ import annotations

import socket
from pathlib import Path

import pytest
import torch

from tests.badinput import copy_base, files, one_line, run_in, shared_base, snapshot

CREATE = ("study", "create", "x", "--space", "cnn", "--dataset", "synthetic")

# (id, args, extra env, exit code, what the line says)
CASES: list[tuple[str, tuple[str, ...], dict[str, str], int, str]] = [
    # from the issue
    ("trials-absurd", (*CREATE, "--trials", "99999999999999999999"), {}, 2, "may be at most 100,000"),
    ("grace-below-heartbeat", (*CREATE, "--trials", "2", "--grace-period", "1", "--heartbeat-interval", "10"), {}, 2,
     "--grace-period is 1s, but must be at least 3 x --heartbeat-interval (30s)"),
    ("name-600-chars", ("study", "create", "n" * 600, "--space", "cnn", "--dataset", "synthetic", "--trials", "2"), {}, 2,
     "may have at most 128"),
    ("objectives-twice", (*CREATE, "--trials", "2", "--objectives", "accuracy,accuracy"), {}, 2,
     "--objectives names accuracy more than once"),
    ("watch-negative", ("study", "show", "base", "--watch", "-1"), {}, 2, "--watch"),
    ("out-is-a-folder", ("export", "base", "--out", "newdir/"), {}, 2, "--out 'newdir/' is a folder"),
    ("train-subset-too-large", (*CREATE, "--trials", "2", "--train-subset", "100000"), {}, 2,
     "--train-subset is 100000, but data set 'synthetic' has"),
    ("imagefolder-empty-path", ("study", "create", "x", "--space", "cnn", "--dataset", "imagefolder:", "--trials", "2"), {}, 2,
     "names no folder"),
    ("artifacts-ftp", (*CREATE, "--trials", "2", "--artifacts", "ftp://host/x"), {}, 2, "uses ftp://, which hpo cannot write"),
    ("artifacts-gs-worker", ("worker", "base"), {"HPO_ARTIFACTS": "gs://bucket"}, 2, "uses gs://, which hpo cannot write"),
    ("image-size-abc", (*CREATE, "--trials", "2"), {"HPO_IMAGE_SIZE": "abc"}, 2, "HPO_IMAGE_SIZE is 'abc'"),
    ("image-size-zero", (*CREATE, "--trials", "2"), {"HPO_IMAGE_SIZE": "0"}, 2, "HPO_IMAGE_SIZE is '0'"),
    ("image-size-negative", (*CREATE, "--trials", "2"), {"HPO_IMAGE_SIZE": "-4"}, 2, "HPO_IMAGE_SIZE is '-4'"),
    ("onnx-renamed-pt", ("evaluate", "renamed.pt"), {}, 1, "is an ONNX model, not a PyTorch checkpoint"),
    ("dashboard-unknown-host", ("dashboard", "--host", "no-such-host.invalid"), {}, 2, "is not a host name or address"),
    ("dashboard-foreign-address", ("dashboard", "--host", "192.0.2.1"), {}, 1, "cannot listen on 192.0.2.1:8080"),
    # ten more of the same kinds
    ("name-blank", ("study", "create", "  ", "--space", "cnn", "--dataset", "synthetic", "--trials", "2"), {}, 2,
     "the study name is empty"),
    ("name-trailing-space", ("study", "create", "x ", "--space", "cnn", "--dataset", "synthetic", "--trials", "2"), {}, 2,
     "starts or ends with a space"),
    ("trials-just-above-limit", (*CREATE, "--trials", "100001"), {}, 2, "may be at most 100,000"),
    ("val-subset-too-large", (*CREATE, "--trials", "2", "--val-subset", "5000"), {}, 2, "--val-subset is 5000"),
    ("image-size-huge", (*CREATE, "--trials", "2"), {"HPO_IMAGE_SIZE": "5000"}, 2, "must be an integer from 1 to 1024"),
    ("onnx-out-is-a-folder", ("export", "base", "--out", "b.pt", "--onnx", "onnxdir/"), {}, 2, "--onnx 'onnxdir/' is a folder"),
    ("artifacts-file-url", (*CREATE, "--trials", "2", "--artifacts", "file:///tmp/x"), {}, 2, "uses file://"),
    ("watch-zero", ("study", "show", "base", "--watch", "0"), {}, 2, "--watch"),
    ("evaluate-pickled-objects", ("evaluate", "objects.pt"), {}, 1, "holds Python objects besides tensors"),
    ("storage-mysql-on-worker", ("worker", "base", "--storage", "mysql://u@127.0.0.1/x"), {}, 2, "hpo supports sqlite and postgresql"),
]


class _Opaque:  # pickled into objects.pt: torch's weights-only loader refuses it
    pass


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = copy_base(shared_base(tmp_path_factory), tmp_path_factory.mktemp("round3") / "base")
    onnx = run_in(folder, "export", "base", "--out", "again.pt", "--onnx", "best.onnx", "--latency-repeats", "1")
    assert onnx.returncode == 0, onnx.stderr[-2000:]
    (folder / "renamed.pt").write_bytes((folder / "best.onnx").read_bytes())
    torch.save({"weights": _Opaque()}, folder / "objects.pt")
    return folder


def test_the_table_has_the_issue_cases_and_ten_more() -> None:
    assert len(CASES) >= 26 and len({c[0] for c in CASES}) == len(CASES)


@pytest.mark.parametrize(("args", "env", "code", "says"), [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_one_clear_line_and_nothing_changed(args: tuple[str, ...], env: dict[str, str], code: int, says: str, base: Path) -> None:
    storage = f"sqlite:///{base / 'hpo.db'}"
    before, kept = snapshot(storage), files(base)
    result = run_in(base, *args, env=env, timeout=180)
    one_line(result, code, says)
    assert "http://" not in result.stdout  # the dashboard prints no URL it cannot serve
    assert snapshot(storage) == before and files(base) == kept


def test_a_port_in_use_is_one_line_before_any_url(base: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run_in(base, "dashboard", "--port", str(port), timeout=120)
    one_line(result, 1, f"port {port} on 127.0.0.1 is in use")
    assert "http://" not in result.stdout + result.stderr


def test_the_name_limit_is_the_same_on_postgresql(pg_url: str, tmp_path: Path) -> None:
    result = run_in(tmp_path, "study", "create", "n" * 600, "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                    "--storage", pg_url)
    one_line(result, 2, "may have at most 128")
    assert snapshot(pg_url) == []
