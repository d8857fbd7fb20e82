"""`hpo spaces` and `hpo blocks` list everything, generated from the registries."""

from __future__ import annotations

import json

from click.testing import CliRunner

from hpo import optim
from hpo.cli import main
from hpo.models import activation_names, architecture_names
from hpo.spaces.registry import builtin_spaces


def test_spaces_lists_every_space_with_params_and_ranges() -> None:
    result = CliRunner().invoke(main, ["spaces"])
    assert result.exit_code == 0, result.output
    for name, space in builtin_spaces().items():
        assert f"{name}: {space.summary()}" in result.output
        for param in space.params:
            assert f"{param.name:<16} {param.describe()}" in result.output
    # Ranges and conditions read as such.
    assert "lr               [1e-05, 0.1] log" in result.output
    assert "block            {basic, bottleneck, wide}  if arch == resnet" in result.output


def test_spaces_json() -> None:
    listed = json.loads(CliRunner().invoke(main, ["spaces", "--json"]).output)
    assert listed["resnet_optimizer"]["params"]["optimizer"] == "{adam, adamax}"
    assert set(builtin_spaces()) <= set(listed)


def test_blocks_lists_every_registry_entry() -> None:
    listed = json.loads(CliRunner().invoke(main, ["blocks", "--json"]).output)
    assert list(listed["architectures"]) == architecture_names()
    assert list(listed["activations"]) == activation_names()
    assert list(listed["optimizers"]) == optim.optimizer_names()
    assert listed["activations"]["parelu"] == "learnable, per channel"
    assert listed["activations"]["adaptive_gelu_mish"] == "learnable"
    assert listed["optimizers"]["sophia"] == "default lr 0.06, needs create_graph"
    assert listed["optimizers"]["sgd+adam+radam"] == "phases: sgd -> adam -> radam"
    assert "attention='none'" in listed["architectures"]["cnn"]
    assert "im2col" in listed["conv types"] and "gated" in listed["pooling types"] and "se" in listed["attention types"]
    text = CliRunner().invoke(main, ["blocks"]).output
    assert "schedules:" in text and "    flip+crop" in text
