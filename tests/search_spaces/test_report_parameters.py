"""Each reference report's dimensions are searchable parameters that build what they name (issue 16)."""

from __future__ import annotations

from typing import Any

import pytest
import torch
from optuna.distributions import CategoricalDistribution, IntDistribution

from hpo.models import attention_names, build_model, conv_names, pooling_names
from hpo.models.attention import SelfAttention2d
from hpo.spaces import SearchSpace, get_space
from search_spaces import resnet_optimizer


def choices(space: SearchSpace, name: str) -> list[Any]:
    distribution = next(p.distribution for p in space.params if p.name == name)
    assert isinstance(distribution, CategoricalDistribution)
    return list(distribution.choices)


def test_architecture_searches_every_built_in_layer_type() -> None:
    """Report 001, task 3: generated from the registries, so a built-in type cannot be left out."""
    space = get_space("architecture")
    assert set(choices(space, "conv")) == set(conv_names())
    assert set(choices(space, "pool")) == set(pooling_names())
    assert set(choices(space, "attention")) == set(attention_names())


@pytest.mark.parametrize("kind", ["conv", "pool", "attention"])
def test_every_layer_choice_builds_and_runs(kind: str) -> None:
    space = get_space("architecture")
    defaults = dict(space.defaults or {})
    for choice in choices(space, kind):
        params = space.validate({**defaults, kind: choice})
        model = build_model(space.build(params, 1).model, (1, 28, 28), 10)
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10), choice


def test_architecture_cnn_depth_reaches_8_blocks() -> None:
    """Report 001's depth "2 to 6+": deep enough for plain CNNs to show vanishing gradients."""
    space = get_space("architecture")
    depth = next(p.distribution for p in space.params if p.name == "cnn_layers")
    assert isinstance(depth, IntDistribution) and depth.low <= 2 and depth.high >= 8
    params = space.validate({**dict(space.defaults or {}), "cnn_layers": 8})
    model = build_model(space.build(params, 1).model, (1, 28, 28), 10)
    assert sum(isinstance(m, torch.nn.Conv2d) for m in model.modules()) == 8


def test_trials_recorded_before_layer_types_still_build() -> None:
    """Export and retrain rebuild old trials from their params: attention was True/False then."""
    old = {"arch": "cnn", "cnn_layers": 2, "kernel": "1x1-3x3", "attention": True, "lr": 1e-3}
    model = build_model(get_space("architecture").build(old, 1).model, (1, 28, 28), 10)
    assert any(isinstance(m, SelfAttention2d) for m in model.modules())
    regularization = get_space("regularization").build(
        {"dropout": 0.0, "augment": "none", "batch_norm": True, "pool": "max", "optimizer": "adam", "lr": 1e-3}, 1)
    assert regularization.model["n_layers"] == 3
    resnet = get_space("resnet_optimizer").build({"depth": 14, "optimizer": "adam", "lr": 1e-3}, 1)
    assert resnet.model["arch"] == "resnet"


def test_resnet_optimizer_offers_torchvisions_resnet50() -> None:
    """Report 002: the real ResNet-50 (about 23.5M parameters), untrained, beside the CPU-sized one."""
    space = get_space("resnet_optimizer")
    assert choices(space, "network") == ["cpu_sized", "torchvision_resnet50"]
    real = space.build(space.validate({"network": "torchvision_resnet50", "optimizer": "adamax", "lr": 1e-3}), 1)
    assert real.model == {"arch": "torchvision", "name": "resnet50"} and real.optimizer == "adamax"
    n_params = sum(p.numel() for p in build_model(real.model, (3, 64, 64), 196).parameters())
    assert 23_500_000 < n_params < 24_000_000  # the report's 23.5M plus a 196-class head
    small = space.build(space.validate({"network": "cpu_sized", "depth": 50, "optimizer": "adam", "lr": 1e-3}), 1)
    assert small.model["stages"] == [3, 4, 6, 3]
    assert "fine-tuned" not in space.description  # nothing is pretrained here


def test_resnet_optimizer_warm_starts_the_cpu_sized_network_without_a_gpu() -> None:
    expected = "torchvision_resnet50" if torch.cuda.is_available() else "cpu_sized"
    assert resnet_optimizer.default_network() == expected
    assert get_space("resnet_optimizer").defaults == resnet_optimizer.defaults(expected)
    assert resnet_optimizer.defaults("cpu_sized") == {"network": "cpu_sized", "depth": 50, "optimizer": "adam", "lr": 1e-3}
    assert resnet_optimizer.defaults("torchvision_resnet50") == {"network": "torchvision_resnet50", "optimizer": "adam",
                                                                 "lr": 1e-3}
    get_space("resnet_optimizer").validate(resnet_optimizer.defaults("torchvision_resnet50"))  # valid on a GPU machine too


def test_regularization_searches_depth_as_report_003_added_layers() -> None:
    space = get_space("regularization")
    depth = next(p.distribution for p in space.params if p.name == "n_layers")
    assert isinstance(depth, IntDistribution) and depth.low == 2 and depth.high >= 4
    params = space.validate({**dict(space.defaults or {}), "n_layers": depth.high})
    assert space.build(params, 1).model["n_layers"] == depth.high


def test_cnn_kernel_is_every_integer_from_3_to_7() -> None:
    """Report 004: kernel 3..7 means every integer; even ones keep the map's size too."""
    space = get_space("cnn")
    param = next(p for p in space.params if p.name == "kernel")
    kernel = param.distribution
    assert isinstance(kernel, IntDistribution) and (kernel.low, kernel.high, kernel.step, kernel.log) == (3, 7, 1, False)
    assert param.grid_values() == [3, 4, 5, 6, 7]
    for size in range(3, 8):
        params = space.validate({**dict(space.defaults or {}), "n_layers": 5, "kernel": size})
        model = build_model(space.build(params, 1).model, (1, 28, 28), 10)
        convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
        assert [c.kernel_size for c in convs] == [(size, size)] * 5
        assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10), size
