"""The activation registry, and the learnable activations against their formulas."""

from __future__ import annotations

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hpo.errors import UsageError
from hpo.models import activation_names, get_activation, make_activation
from hpo.models.learnable import AdaptiveGELUMish, DynamicSwish, PAReLU

LEARNABLE = ["parelu", "dynamic_swish", "adaptive_gelu_mish"]
# (N, C, H, W) after a conv and (N, F) after a linear layer; channels are dimension 1 in both.
SHAPES = [(4, 6, 5, 5), (4, 6)]


def formula_at_init(name: str, x: torch.Tensor) -> torch.Tensor:
    """Each learnable activation's defining formula with its documented initial values."""
    if name == "parelu":  # a = 1, b = 0.25
        return torch.where(x >= 0, 1.0 * x, 0.25 * x)
    if name == "dynamic_swish":  # beta = 1
        return x * torch.sigmoid(1.0 * x)
    w = torch.sigmoid(torch.tensor(0.0))  # theta = 0
    return w * F.gelu(x) + (1 - w) * F.mish(x)


def test_registry_has_builtins_and_learnable() -> None:
    names = set(activation_names())
    assert {"relu", "leaky_relu", "elu", "selu", "gelu", "silu", "mish", "tanh", "sigmoid"} <= names
    assert set(LEARNABLE) <= names
    assert isinstance(make_activation("swish"), nn.SiLU)  # alias


def test_unknown_activation_lists_choices() -> None:
    with pytest.raises(UsageError, match="unknown activation 'nope'.*parelu.*swish"):
        get_activation("nope")


def test_user_callable_passes_through() -> None:
    assert isinstance(make_activation(nn.Hardswish, 8), nn.Hardswish)
    assert make_activation(lambda num_channels: PAReLU(num_channels), 8).a.shape == (8,)


@pytest.mark.parametrize("name", activation_names())
@pytest.mark.parametrize("shape", SHAPES, ids=["conv", "linear"])
def test_every_activation_keeps_shape(name: str, shape: tuple[int, ...]) -> None:
    x = torch.randn(*shape)
    assert make_activation(name, shape[1])(x).shape == x.shape


@pytest.mark.parametrize("name", LEARNABLE)
@pytest.mark.parametrize("shape", SHAPES, ids=["conv", "linear"])
def test_learnable_matches_formula_at_init(name: str, shape: tuple[int, ...]) -> None:
    x = torch.linspace(-4, 4, steps=torch.Size(shape).numel()).reshape(shape)
    torch.testing.assert_close(make_activation(name, shape[1])(x), formula_at_init(name, x))


@pytest.mark.parametrize("name", LEARNABLE)
@pytest.mark.parametrize("shape", SHAPES, ids=["conv", "linear"])
def test_learnable_gradients_reach_input_and_parameters(name: str, shape: tuple[int, ...]) -> None:
    act = make_activation(name, shape[1])
    x = torch.randn(*shape, requires_grad=True)
    (act(x) * torch.randn(*shape)).sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    params = list(act.parameters())
    assert params, f"{name} has no learnable parameters"
    for param in params:
        assert param.grad is not None and param.grad.abs().sum() > 0


def test_parameters_are_per_channel() -> None:
    parelu, swish = PAReLU(6), DynamicSwish(6)
    assert parelu.a.shape == parelu.b.shape == swish.beta.shape == (6,)
    assert make_activation("adaptive_gelu_mish", 6).theta.shape == ()  # one scalar, as report 000 defines it
    # Each channel's parameter acts on its own channel only.
    with torch.no_grad():
        parelu.b[2] = 0.0
    out = parelu(-torch.ones(1, 6, 3, 3))
    assert torch.all(out[:, 2] == 0) and torch.all(out[:, 3] == -0.25)


def test_learned_parameters_change_the_function() -> None:
    x = torch.tensor([[-2.0, 1.0]])
    parelu = PAReLU(2)
    with torch.no_grad():
        parelu.a.fill_(2.0)
        parelu.b.fill_(0.5)
    torch.testing.assert_close(parelu(x), torch.tensor([[-1.0, 2.0]]))
    blend = AdaptiveGELUMish()
    with torch.no_grad():
        blend.theta.fill_(50.0)  # w -> 1: pure GELU
    torch.testing.assert_close(blend(x), F.gelu(x))
