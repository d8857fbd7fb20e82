"""Every architecture with every activation, generated from the registries."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from hpo.errors import UsageError
from hpo.models import activation_names, architecture_names, build_model
from hpo.models.attention import SelfAttention2d
from hpo.models.resnet import BLOCKS

INPUT_SHAPE = (1, 8, 8)
NUM_CLASSES = 4
# Tiny variants per architecture, so the cross product stays fast. An architecture registered
# later and missing here is still tested, with its builder's defaults.
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "mlp": [{"hidden": [16, 8], "dropout": 0.1}],
    "cnn": [{"n_layers": 2, "channels": 4, "kernel": "1x1-3x3", "attention": True, "dropout": 0.1},
            {"n_layers": 1, "channels": 4, "head": "flatten", "hidden": 8}],
    "resnet": [{"block": block, "stages": [1, 1], "width": 4, "attention": block == "basic"} for block in BLOCKS],
}


def specs() -> list[Any]:
    return [
        pytest.param({"arch": arch, **variant, "activation": act}, id=f"{arch}-{i}-{act}")
        for arch in architecture_names()
        for i, variant in enumerate(VARIANTS.get(arch, [{}]))
        for act in activation_names()
    ]


@pytest.mark.parametrize("spec", specs())
def test_builds_runs_forward_and_backward(spec: dict[str, Any]) -> None:
    torch.manual_seed(0)
    model = build_model(spec, INPUT_SHAPE, NUM_CLASSES)
    x, y = torch.randn(6, *INPUT_SHAPE), torch.randint(0, NUM_CLASSES, (6,))
    logits = model(x)
    assert logits.shape == (6, NUM_CLASSES)
    F.cross_entropy(logits, y).backward()
    # Every parameter takes part (the attention gate too: its gradient is defined at 0).
    assert all(p.grad is not None for p in model.parameters())


@pytest.mark.parametrize("kernel", ["3", "5", "7", "1x1-3x3", 5])
@pytest.mark.parametrize("n_layers", [1, 5])
@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_cnn_kernels_and_depths_on_28px(kernel: Any, n_layers: int, head: str) -> None:
    model = build_model({"arch": "cnn", "n_layers": n_layers, "kernel": kernel, "channels": 4, "pool": "avg", "head": head}, (1, 28, 28), 10)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_flatten_head_sizes_non_square_images() -> None:
    model = build_model({"arch": "cnn", "n_layers": 3, "channels": 4, "head": "flatten"}, (3, 32, 20), 10)
    assert model(torch.randn(2, 3, 32, 20)).shape == (2, 10)


def test_attention_starts_as_identity_and_learns() -> None:
    block = SelfAttention2d(6, heads=4)  # 4 does not divide 6: falls back to 3 heads
    assert block.attn.num_heads == 3
    x = torch.randn(2, 6, 3, 3, requires_grad=True)
    out = block(x)
    torch.testing.assert_close(out, x)
    out.pow(2).sum().backward()
    assert block.gamma.grad is not None and block.gamma.grad != 0


def test_attention_flag_adds_a_block() -> None:
    plain = build_model({"arch": "resnet", "stages": [1], "width": 4}, INPUT_SHAPE, NUM_CLASSES)
    with_attention = build_model({"arch": "resnet", "stages": [1], "width": 4, "attention": True}, INPUT_SHAPE, NUM_CLASSES)
    assert not any(isinstance(m, SelfAttention2d) for m in plain.modules())
    assert sum(isinstance(m, SelfAttention2d) for m in with_attention.modules()) == 1


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ({"arch": "transformer"}, "unknown architecture 'transformer'; choose one of: cnn, mlp, resnet"),
        ({"arch": "cnn", "kernel": 4}, "unknown kernel '4'"),
        ({"arch": "cnn", "n_layers": 6}, "n_layers is 6"),
        ({"arch": "cnn", "pool": "min"}, "unknown pool 'min'"),
        ({"arch": "cnn", "head": "mlp"}, "unknown head 'mlp'"),
        ({"arch": "resnet", "block": "dense"}, "unknown residual block 'dense'"),
        ({"arch": "resnet", "stages": []}, "every stage needs at least one block"),
        ({"arch": "mlp", "activation": "nope"}, "unknown activation 'nope'"),
        ({"arch": "mlp", "widths": [3]}, "does not accept"),
        ({"hidden": [3]}, "has no 'arch' key"),
    ],
)
def test_bad_specs_are_usage_errors(spec: dict[str, Any], message: str) -> None:
    with pytest.raises(UsageError, match=message.replace("(", r"\(")):
        build_model(spec, INPUT_SHAPE, NUM_CLASSES)
