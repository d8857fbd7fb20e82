"""The PyTorch program: torch.export where it traces, TorchScript where it cannot; plain torch loads both."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import torch
from torch import nn

from hpo.export.standalone import PROGRAM, TORCHSCRIPT, load_program, save_program
from hpo.files import default_mode
from hpo.models import build_model

META = {"input_shape": [1, 8, 8], "normalization": {"mean": [0.3], "std": [0.2]}, "classes": [f"c{i}" for i in range(10)],
        "model": {"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 4}}


class DataDependent(nn.Module):
    """A branch on a tensor's value: torch.export refuses it; TorchScript's trace records one path."""

    def __init__(self) -> None:
        super().__init__()
        self.linear = nn.Linear(64, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.linear(x.flatten(1))
        if out.sum() > 1e9:  # never true here; a guard torch.export cannot decide ahead of time
            out = out * 2
        return out


def test_an_hpo_model_becomes_a_torch_export_program(tmp_path: Path) -> None:
    model = build_model(META["model"], META["input_shape"], 10).eval()
    path, kind = save_program(model, META, tmp_path / "m.pt2")
    assert (path, kind) == (tmp_path / "m.pt2", PROGRAM)
    assert stat.S_IMODE(path.stat().st_mode) == default_mode()
    extra = {"classes.json": "", "input.json": ""}
    loaded = torch.export.load(str(path), extra_files=extra).module()  # plain torch
    assert json.loads(extra["classes.json"]) == META["classes"]
    assert json.loads(extra["input.json"])["range"] == [0.0, 1.0]
    pixels = torch.rand(5, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(loaded(pixels), model((pixels - 0.3) / 0.2), atol=1e-5)


def test_a_model_torch_export_cannot_trace_is_written_as_torchscript(tmp_path: Path) -> None:
    model = DataDependent().eval()
    path, kind = save_program(model, META, tmp_path / "m.pt2")
    assert kind == TORCHSCRIPT and path == tmp_path / "m.torchscript.pt" and not (tmp_path / "m.pt2").exists()
    extra = {"classes.json": ""}
    loaded = torch.jit.load(str(path), _extra_files=extra)  # plain torch
    assert json.loads(extra["classes.json"]) == META["classes"]
    module, contract = load_program(path)
    assert contract["input"]["normalized_in_graph"]
    pixels = torch.rand(3, 1, 8, 8)
    with torch.no_grad():
        assert torch.allclose(loaded(pixels), model((pixels - 0.3) / 0.2), atol=1e-5)
        assert torch.allclose(module(pixels), loaded(pixels))
