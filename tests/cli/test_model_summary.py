"""`hpo model-summary`: the model a space builds, layer by layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from hpo.cli import main
from hpo.models import build_model
from hpo.spaces import get_space
from tests.helpers import run_hpo

RESNET = {"network": "cpu_sized", "depth": 14, "optimizer": "adamax", "lr": 0.001}


def invoke(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["model-summary", *args])
    return result.exit_code, result.output


def test_lists_layers_shapes_and_the_exact_parameter_count() -> None:
    code, out = invoke("resnet_optimizer", "--params", json.dumps(RESNET))
    assert code == 0, out
    model = build_model(get_space("resnet_optimizer").build(RESNET, 1).model, (1, 28, 28), 10)
    assert f"Total params: {sum(p.numel() for p in model.parameters()):,}" in out
    assert "input 1x28x28, 10 classes; optimizer adamax" in out
    assert "Bottleneck" in out and "[1, 512, 4, 4]" in out and "[1, 10]" in out


def test_shape_from_a_data_set_or_the_option(tmp_path: Path) -> None:
    params = tmp_path / "p.json"
    params.write_text(json.dumps({"activation": "parelu", "optimizer": "sgd+adam"}))
    code, out = invoke("activation_optimizer", "--params", f"@{params}", "--dataset", "synthetic")
    assert code == 0, out
    assert "input 1x8x8, 4 classes" in out and "PAReLU" in out and "[1, 512]" in out
    code, out = invoke("activation_optimizer", "--params", f"@{params}", "--input-shape", "3,32,32", "--num-classes", "100")
    assert code == 0 and "input 3x32x32, 100 classes" in out and "[1, 100]" in out


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["cnn", "--params", "{nope"], "--params is not valid JSON"),
        (["cnn", "--params", "[1]"], "--params must be a JSON object"),
        (["cnn", "--params", '{"n_layers": 2}'], "space 'cnn' needs parameter 'kernel'"),
        (["cnn", "--params", '{"n_layers": 2, "kernel": 8, "optimizer": "adam", "lr": 0.01}'], "'kernel' is 8, outside"),
        (["nope", "--params", "{}"], "unknown search space 'nope'"),
        (["resnet_optimizer", "--params", json.dumps(RESNET), "--input-shape", "1,28"], "--input-shape is '1,28'"),
    ],
)
def test_bad_input_is_one_line_and_exit_2(args: list[str], message: str) -> None:
    code, out = invoke(*args)
    assert code == 2
    assert out.count("\n") == 1 and out.startswith("error: ") and message in out


def test_real_command_line() -> None:
    done = run_hpo("model-summary", "architecture", "--params",
                   json.dumps({"arch": "cnn", "cnn_layers": 2, "kernel": "1x1-3x3", "conv": "standard", "pool": "max",
                               "attention": "self_attention", "lr": 0.001}))
    assert done.returncode == 0, done.stderr
    assert "SelfAttention2d" in done.stdout and "MultiheadAttention" in done.stdout
