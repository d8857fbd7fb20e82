"""Tampered, truncated and garbage model files are refused with one line, by evaluate and predict."""

from __future__ import annotations

import hashlib
from pathlib import Path

import onnx
import pytest
import torch
from click.testing import CliRunner
from onnx import TensorProto, helper

from hpo.cli import main
from tests.export.conftest import Exported


def _damage(exported: Exported, folder: Path) -> dict[str, Path]:
    good_pt, good_onnx = exported.pt.read_bytes(), exported.onnx.read_bytes()
    files = {name: folder / name for name in ("tampered.pt", "truncated.pt", "truncated.onnx", "garbage.onnx", "foreign.onnx")}
    data = torch.load(exported.pt, weights_only=True)
    key = next(iter(data["state_dict"]))
    data["state_dict"][key] = data["state_dict"][key] * 1.01  # a quiet change to one weight
    torch.save(data, files["tampered.pt"])
    files["truncated.pt"].write_bytes(good_pt[: len(good_pt) // 2])
    files["truncated.onnx"].write_bytes(good_onnx[: len(good_onnx) // 2])
    files["garbage.onnx"].write_bytes(hashlib.sha256(b"not a model").digest() * 64)
    # A valid ONNX model that hpo did not write: no classes, no normalization.
    graph = helper.make_graph([helper.make_node("Identity", ["x"], ["y"])], "g",
                              [helper.make_tensor_value_info("x", TensorProto.FLOAT, [None, 4])],
                              [helper.make_tensor_value_info("y", TensorProto.FLOAT, [None, 4])])
    onnx.save_model(helper.make_model(graph, opset_imports=[helper.make_opsetid("", 21)]), files["foreign.onnx"])
    return files


CASES = [
    ("tampered.pt", "failed its SHA-256 check"),
    ("truncated.pt", "is a truncated or damaged PyTorch file"),
    ("truncated.onnx", "is damaged or not an ONNX model"),
    ("garbage.onnx", "is damaged or not an ONNX model"),
    ("foreign.onnx", "has no 'hpo.meta' metadata"),
]


@pytest.mark.parametrize("command", ["evaluate", "predict"])
@pytest.mark.parametrize(("name", "says"), CASES, ids=[c[0] for c in CASES])
def test_damaged_model_file_is_refused_in_one_line(exported: Exported, tmp_path: Path, command: str, name: str, says: str) -> None:
    path = _damage(exported, tmp_path)[name]
    image = tmp_path / "img.png"
    from PIL import Image

    Image.new("L", (8, 8)).save(image)
    args = [command, str(path)] + ([str(image)] if command == "predict" else [])
    result = CliRunner().invoke(main, args, env=exported.env)
    assert isinstance(result.exception, SystemExit), result.exc_info  # no escaped exception, no traceback
    assert result.exit_code == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ") and says in lines[0], result.stderr
    assert "Traceback" not in result.output
