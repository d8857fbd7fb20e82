"""Conv, pooling and attention types (report 001, task 3): every registry entry, generated from the registries."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from torch import nn

from hpo.errors import UsageError
from hpo.models import (
    attention_names,
    build_model,
    conv_names,
    get_attention,
    get_conv,
    get_pooling,
    pooling_names,
    register_attention,
    register_conv,
    register_pooling,
)
from hpo.models.attention import ATTENTIONS
from hpo.models.convs import CONVS, Im2colConv2d, Im2colConvFunction
from hpo.models.pooling import POOLINGS, GatedPool2d
from hpo.spaces import get_space


def _double_backward(module: nn.Module, x: torch.Tensor) -> None:
    """Sophia differentiates the gradient again (create_graph=True): every layer must allow that."""
    params = [p for p in module.parameters() if p.requires_grad]
    out = module(x).pow(2).mean()
    grads = torch.autograd.grad(out, [x, *params], create_graph=True)
    second = torch.autograd.grad(sum(g.pow(2).sum() for g in grads), [x, *params], allow_unused=True)
    assert any(g is not None and g.abs().sum() > 0 for g in second)


@pytest.mark.parametrize("name", conv_names())
@pytest.mark.parametrize("kernel", [1, 2, 3, 4, 5, 6])
@pytest.mark.parametrize("bias", [True, False])
def test_every_conv_type_keeps_the_map_and_trains(name: str, kernel: int, bias: bool) -> None:
    torch.manual_seed(0)
    conv = get_conv(name)(3, 5, kernel, bias)
    x = torch.randn(2, 3, 7, 9, requires_grad=True)
    assert conv(x).shape == (2, 5, 7, 9)
    assert (any(n.endswith("bias") for n, _ in conv.named_parameters())) == bias
    _double_backward(conv, x)


@pytest.mark.parametrize("name", pooling_names())
@pytest.mark.parametrize(("size", "pooled"), [((8, 6), (4, 3)), ((7, 7), (3, 3)), ((2, 2), (1, 1))])
def test_every_pooling_type_halves_the_map(name: str, size: tuple[int, int], pooled: tuple[int, int]) -> None:
    pool = get_pooling(name)(4)
    x = torch.randn(2, 4, *size, requires_grad=True)
    assert pool(x).shape == (2, 4, *pooled)
    _double_backward(nn.Sequential(nn.Conv2d(4, 4, 1), pool), x)


@pytest.mark.parametrize("name", attention_names())
def test_every_attention_type_keeps_the_shape(name: str) -> None:
    block = get_attention(name)(8)
    x = torch.randn(2, 8, 3, 3, requires_grad=True)
    assert block(x).shape == x.shape
    _double_backward(nn.Sequential(nn.Conv2d(8, 8, 1), block), x)


@pytest.mark.parametrize("conv", conv_names())
@pytest.mark.parametrize("pool", pooling_names())
@pytest.mark.parametrize("attention", attention_names())
def test_every_combination_builds_a_cnn_that_learns_a_batch(conv: str, pool: str, attention: str) -> None:
    torch.manual_seed(0)
    model = build_model({"arch": "cnn", "n_layers": 2, "channels": 4, "conv": conv, "pool": pool, "attention": attention},
                        (1, 8, 8), 3)
    x, y = torch.randn(12, 1, 8, 8), torch.randint(0, 3, (12,))
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    first = F.cross_entropy(model(x), y)
    for _ in range(5):
        optimizer.zero_grad()
        F.cross_entropy(model(x), y).backward()
        optimizer.step()
    assert F.cross_entropy(model(x), y) < first


@pytest.mark.parametrize(("kernel", "padding", "bias"), [(1, 0, True), (3, 1, True), (3, 0, False), (5, 2, True)])
def test_im2col_backward_passes_gradcheck(kernel: int, padding: int, bias: bool) -> None:
    """The hand-written backward against finite differences, first and second order, in float64.

    Small tensors: finite differences perturb every input element one at a time.
    """
    torch.manual_seed(0)
    x = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)
    w = torch.randn(3, 2, kernel, kernel, dtype=torch.float64, requires_grad=True)
    b = torch.randn(3, dtype=torch.float64, requires_grad=True) if bias else None
    inputs = (x, w, b, padding)
    assert torch.autograd.gradcheck(Im2colConvFunction.apply, inputs)
    assert torch.autograd.gradgradcheck(Im2colConvFunction.apply, inputs)


def test_im2col_computes_what_conv2d_computes() -> None:
    torch.manual_seed(0)
    layer = Im2colConv2d(3, 4, 3, bias=True)
    reference = nn.Conv2d(3, 4, 3, padding=1)
    reference.load_state_dict(layer.state_dict())
    x1 = torch.randn(2, 3, 6, 5, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_()
    torch.testing.assert_close(layer(x1), reference(x2))
    layer(x1).sin().sum().backward()
    reference(x2).sin().sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(layer.weight.grad, reference.weight.grad)
    torch.testing.assert_close(layer.bias.grad, reference.bias.grad)


@pytest.mark.parametrize("kernel", [2, 4, 5, 6])
@pytest.mark.parametrize("name", conv_names())
def test_every_conv_type_pads_like_pytorchs_same(name: str, kernel: int) -> None:
    """Report 004's kernel 3..7 includes even sizes: PyTorch's padding="same" is the reference
    (one pixel more at the bottom and right), for the hand-written im2col conv too."""
    torch.manual_seed(0)
    conv = get_conv(name)(3, 4, kernel, True)
    x = torch.randn(2, 3, 7, 6)
    # A delta in the top-left corner shows where the extra padding went: same for every type.
    reference = nn.Conv2d(3, 4, kernel, padding="same", bias=False)
    with torch.no_grad():
        reference.weight.copy_(torch.randn_like(reference.weight))
    if name in ("standard", "im2col"):
        with torch.no_grad():
            conv.weight.copy_(reference.weight)
            conv.bias.zero_()
        torch.testing.assert_close(conv(x), reference(x))
    else:  # the same map size, and the same receptive field position: a delta lands where conv2d puts it
        delta = torch.zeros(1, 3, 7, 6)
        delta[0, :, 3, 3] = 1.0
        reach = conv(delta) - conv(torch.zeros_like(delta))
        reference_reach = reference(delta)
        assert reach.shape == reference_reach.shape
        assert torch.equal(reach.abs().sum(1) > 1e-7, reference_reach.abs().sum(1) > 1e-7)


@pytest.mark.parametrize("kernel", [2, 4])
def test_im2col_with_an_even_kernel_passes_gradcheck(kernel: int) -> None:
    """The layer as a whole (F.pad, then the hand-written function), first and second order."""
    torch.manual_seed(0)
    layer = Im2colConv2d(2, 3, kernel, bias=True).double()
    x = torch.randn(2, 2, 4, 5, dtype=torch.float64, requires_grad=True)

    def run(x: torch.Tensor, w: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
        return torch.func.functional_call(layer, {"weight": w, "bias": b}, (x,))

    inputs = (x, layer.weight.detach().clone().requires_grad_(), layer.bias.detach().clone().requires_grad_())
    assert run(*inputs).shape == (2, 3, 4, 5)
    assert torch.autograd.gradcheck(run, inputs)
    assert torch.autograd.gradgradcheck(run, inputs)


def test_im2col_backward_under_bf16_autocast_returns_each_inputs_dtype() -> None:
    """The CUDA path (autocast) as HPO_PRECISION=bf16 runs it on the CPU."""
    layer = Im2colConv2d(2, 3, 3)
    x = torch.randn(2, 2, 4, 4, requires_grad=True)
    with torch.autocast("cpu", dtype=torch.bfloat16):
        out = layer(x)
    out.float().sum().backward()
    assert x.grad is not None and x.grad.dtype == torch.float32 and layer.weight.grad.dtype == torch.float32


def test_gated_pooling_starts_halfway_between_max_and_average_and_learns_its_gate() -> None:
    pool = GatedPool2d(2)
    x = torch.randn(1, 2, 4, 4)
    torch.testing.assert_close(pool(x), 0.5 * F.max_pool2d(x, 2) + 0.5 * F.avg_pool2d(x, 2))
    pool(x).sum().backward()
    assert pool.gate.weight.grad is not None and pool.gate.weight.grad.abs().sum() > 0


def test_squeeze_excitation_rescales_channels_only() -> None:
    block = get_attention("se")(8)
    x = torch.rand(1, 8, 3, 3) + 0.1
    ratio = block(x) / x  # one gate in (0, 1) per channel, the same at every position
    assert torch.allclose(ratio, ratio[:, :, :1, :1].expand_as(ratio)) and bool(((ratio > 0) & (ratio < 1)).all())


class _Doubling(nn.Module):
    def __init__(self, in_ch: int, out_ch: int, kernel_size: int, bias: bool) -> None:
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return 2 * self.conv(x)


def _registries() -> list[tuple[str, Callable[[str, object], None], object]]:
    return [("conv", register_conv, CONVS), ("pool", register_pooling, POOLINGS), ("attention", register_attention, ATTENTIONS)]


@pytest.mark.parametrize(("kind", "register", "registry"), _registries(), ids=["conv", "pool", "attention"])
def test_a_taken_name_is_refused_for_another_factory(kind: str, register: Callable[[str, object], None], registry: object) -> None:
    taken = next(iter(registry))  # type: ignore[call-overload]
    with pytest.raises(ValueError, match=f"{taken!r} is already registered"):
        register(taken, _Doubling)


@pytest.mark.parametrize(("kind", "value", "message"), [
    ("conv", "fft", "unknown conv type 'fft'; choose one of: depthwise_separable, im2col, standard"),
    ("pool", "min", "unknown pool 'min'; choose one of: avg, gated, max"),
    ("attention", "cbam", "unknown attention 'cbam'; choose one of: none, se, self_attention"),
])
def test_unknown_names_list_the_choices(kind: str, value: str, message: str) -> None:
    get = {"conv": get_conv, "pool": get_pooling, "attention": get_attention}[kind]
    with pytest.raises(UsageError, match=message):
        get(value)


def test_factories_pass_through_like_activations() -> None:
    model = build_model({"arch": "cnn", "n_layers": 1, "channels": 2, "conv": _Doubling, "pool": GatedPool2d,
                         "attention": lambda c: nn.Identity()}, (1, 4, 4), 2)
    assert isinstance(model[0], _Doubling) and isinstance(model[3], GatedPool2d)


SPACE_WITH_OWN_LAYERS = '''
"""Does a conv with doubled output help?"""
import torch
from torch import nn
from optuna.distributions import CategoricalDistribution

from hpo.models import register_conv, register_pooling
from hpo.spaces import Param, SearchSpace
from hpo.training import TrainConfig


class DoublingConv(nn.Module):
    def __init__(self, in_ch, out_ch, kernel_size, bias):
        super().__init__()
        self.conv = nn.Conv2d(in_ch, out_ch, kernel_size, padding=kernel_size // 2, bias=bias)

    def forward(self, x):
        return 2 * self.conv(x)


def l2_pool(channels):
    return nn.LPPool2d(2, 2)


register_conv("doubling", DoublingConv)
register_pooling("l2", l2_pool)

SPACE = SearchSpace(
    name="own_layers",
    description=__doc__,
    params=(Param("conv", CategoricalDistribution(["standard", "doubling"])),),
    build=lambda p, epochs: TrainConfig(model={"arch": "cnn", "n_layers": 2, "channels": 4, "conv": p["conv"], "pool": "l2"},
                                        epochs=epochs),
)
'''


def test_a_space_module_registers_its_own_layers_by_name(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for registry in (CONVS, POOLINGS):  # the registrations end with the test; other tests list the choices
        monkeypatch.setattr(registry, "_entries", dict(registry._entries))
    path = tmp_path / "own_layers.py"
    path.write_text(SPACE_WITH_OWN_LAYERS)
    space = get_space(str(path))
    get_space(str(path))  # loading the file again registers the same layers again: allowed
    model = build_model(space.build({"conv": "doubling"}, 1).model, (1, 8, 8), 3)
    assert type(model[0]).__name__ == "DoublingConv" and isinstance(model[3], nn.LPPool2d)
    assert model(torch.randn(2, 1, 8, 8)).shape == (2, 3)
    assert {"doubling"} <= set(conv_names()) and {"l2"} <= set(pooling_names())
