"""Every architecture with every activation, generated from the registries."""

from __future__ import annotations

from typing import Any

import pytest
import torch
import torch.nn.functional as F

from hpo.errors import UsageError
from hpo.models import activation_names, architecture_names, build_model
from hpo.models.attention import SelfAttention2d
from hpo.models.learnable import PAReLU
from hpo.models.pooling import GatedPool2d
from hpo.models.resnet import BLOCKS, ResidualBlock, register_block

INPUT_SHAPE = (1, 8, 8)
NUM_CLASSES = 4
# Tiny variants per architecture, so the cross product stays fast. An architecture registered
# later and missing here is still tested, with its builder's defaults.
VARIANTS: dict[str, list[dict[str, Any]]] = {
    "mlp": [{"hidden": [16, 8], "dropout": 0.1}],
    "cnn": [{"n_layers": 2, "channels": 4, "kernel": "1x1-3x3", "attention": True, "dropout": 0.1},
            {"n_layers": 1, "channels": 4, "head": "flatten", "hidden": 8},
            # Report 001's custom layers (each registry entry alone: tests/models/test_layers.py).
            {"n_layers": 2, "channels": 4, "conv": "im2col", "pool": "gated", "attention": "se"},
            {"n_layers": 2, "channels": 4, "conv": "depthwise_separable", "pool": "avg", "attention": "self_attention"}],
    "resnet": [{"block": block, "stages": [1, 1], "width": 4, "attention": block == "basic"} for block in BLOCKS],
    # resnet50 itself is built once below; a smaller torchvision model keeps the cross product fast.
    "torchvision": [{"name": "resnet18"}],
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


@pytest.mark.parametrize("kernel", ["3", "4", "5", "7", "1x1-3x3", 5, 6])
@pytest.mark.parametrize("n_layers", [1, 5, 8])
@pytest.mark.parametrize("head", ["gap", "flatten"])
def test_cnn_kernels_and_depths_on_28px(kernel: Any, n_layers: int, head: str) -> None:
    model = build_model({"arch": "cnn", "n_layers": n_layers, "kernel": kernel, "channels": 4, "pool": "avg", "head": head}, (1, 28, 28), 10)
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_pooling_stops_once_the_map_is_one_pixel() -> None:
    """Report 001's 6+ layers: 28 px pools 4 times (14, 7, 3, 1), then blocks add depth only."""
    model = build_model({"arch": "cnn", "n_layers": 8, "channels": 4, "pool": "gated"}, (1, 28, 28), 10)
    assert sum(isinstance(m, torch.nn.Conv2d) and m.kernel_size == (3, 3) for m in model.modules()) == 8
    assert sum(isinstance(m, GatedPool2d) for m in model.modules()) == 4
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)


def test_standard_layers_keep_the_state_dict_layout_of_older_checkpoints() -> None:
    """Checkpoints of earlier trials (attention True/False, no conv or pool type) still load."""
    old_keys = ["0.weight", "1.weight", "1.bias", "1.running_mean", "1.running_var", "1.num_batches_tracked",
                "4.weight", "5.weight", "5.bias", "5.running_mean", "5.running_var", "5.num_batches_tracked"]
    plain = build_model({"arch": "cnn", "n_layers": 2, "channels": 4, "attention": False}, INPUT_SHAPE, NUM_CLASSES)
    # conv, bn, relu, pool twice; then global pooling, flatten, linear (as the builder made them before).
    assert list(plain.state_dict()) == [*old_keys, "10.weight", "10.bias"]
    attended = build_model({"arch": "cnn", "n_layers": 2, "channels": 4, "attention": True}, INPUT_SHAPE, NUM_CLASSES)
    assert isinstance(attended[8], SelfAttention2d)
    assert build_model({"arch": "cnn", "n_layers": 2, "channels": 4, "attention": "none"}, INPUT_SHAPE,
                       NUM_CLASSES).state_dict().keys() == plain.state_dict().keys()


def test_torchvision_resnet50_is_the_real_one_untrained() -> None:
    """Report 002's ResNet-50: torchvision's own, about 23.5M parameters, from scratch."""
    torch.manual_seed(0)
    model = build_model({"arch": "torchvision", "name": "resnet50"}, (1, 28, 28), 10)
    backbone = sum(p.numel() for name, p in model.named_parameters() if not name.startswith("fc."))
    # torchvision's 23,508,032 without the classifier, less the 7x7 stem's 64 filters for 2 of its 3 input channels.
    assert backbone == 23_508_032 - 64 * 7 * 7 * 2
    assert model.fc.out_features == 10 and model.conv1.in_channels == 1
    assert model(torch.randn(2, 1, 28, 28)).shape == (2, 10)
    colour = build_model({"arch": "torchvision"}, (3, 32, 32), 196)
    assert colour.conv1.in_channels == 3 and colour(torch.randn(2, 3, 32, 32)).shape == (2, 196)


def test_torchvision_activation_replaces_every_relu() -> None:
    model = build_model({"arch": "torchvision", "name": "resnet18", "activation": "parelu"}, INPUT_SHAPE, NUM_CLASSES)
    assert not any(isinstance(m, torch.nn.ReLU) for m in model.modules())
    assert any(isinstance(m, PAReLU) for m in model.modules())


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
        ({"arch": "cnn", "kernel": 12}, "unknown kernel '12'; choose a size from 1 to 11 or '1x1-3x3'"),
        ({"arch": "cnn", "kernel": 0}, "unknown kernel '0'"),
        ({"arch": "cnn", "kernel": "3x3"}, "unknown kernel '3x3'"),
        ({"arch": "cnn", "n_layers": 17}, "n_layers is 17, but must be between 1 and 16"),
        ({"arch": "cnn", "n_layers": 0}, "n_layers is 0, but must be between 1 and 16"),
        ({"arch": "cnn", "pool": "min"}, "unknown pool 'min'; choose one of: avg, gated, max"),
        ({"arch": "cnn", "conv": "fft"}, "unknown conv type 'fft'; choose one of: depthwise_separable, im2col, standard"),
        ({"arch": "cnn", "attention": "cbam"}, "unknown attention 'cbam'; choose one of: none, se, self_attention"),
        ({"arch": "resnet", "attention": "cbam"}, "unknown attention 'cbam'"),
        ({"arch": "torchvision", "name": "resnet51"}, "unknown torchvision model 'resnet51'; choose one of: alexnet, "),
        ({"arch": "torchvision", "activation": "nope"}, "unknown activation 'nope'"),
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


class _SingleConvBlock(ResidualBlock):
    """A block a space file might add: one 3x3 conv; the base gives it the rest."""

    expansion = 1

    def make_body(self, in_ch: int, planes: int, out_ch: int, stride: int, act: Any) -> torch.nn.Sequential:
        return torch.nn.Sequential(torch.nn.Conv2d(in_ch, out_ch, 3, stride, 1, bias=False), torch.nn.BatchNorm2d(out_ch))


def test_a_registered_residual_block_is_named_in_a_spec_and_gets_the_shared_parts() -> None:
    register_block("single_conv", _SingleConvBlock)
    model = build_model({"arch": "resnet", "block": "single_conv", "stages": [1, 1], "width": 4},
                        INPUT_SHAPE, NUM_CLASSES)
    blocks = [m for m in model if isinstance(m, _SingleConvBlock)]
    assert len(blocks) == 2
    first, second = blocks
    assert isinstance(first.shortcut, torch.nn.Identity)  # same shape: identity
    assert isinstance(second.shortcut, torch.nn.Sequential)  # stride 2, more channels: a projection
    x = torch.randn(2, 4, 8, 8)
    # The zero-initialised last BatchNorm: at the start a block is its shortcut plus the activation.
    assert torch.equal(first.eval()(x), F.relu(x))
    with pytest.raises(UsageError, match="unknown residual block 'nope'"):
        build_model({"arch": "resnet", "block": "nope"}, INPUT_SHAPE, NUM_CLASSES)
