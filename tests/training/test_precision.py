"""The precision and memory layout a run gets on a CPU: fp32 (bf16 where the CPU computes bf16 in hardware), conv nets in channels_last.

The layout is a speed choice (benchmark 8), so what must hold is that nothing else changes:
the weights a CPU run trains are plain fp32 tensors that load into a freshly built (NCHW)
model, as `hpo export` and its users do, and give the same predictions there.
"""

from __future__ import annotations

import pytest
import torch

from hpo import data
from hpo.models import build_model
from hpo.training import TrainConfig, train
from hpo.training.loop import predict_logits
from hpo.devices import cpu_flags
from hpo.training.precision import CHOICES, choose, cpu_default

CPU = torch.device("cpu")


@pytest.mark.parametrize(("flags", "name"), [
    (set(), "fp32"),  # none listed (not Linux)
    ({"avx2", "fma"}, "fp32"),  # no bf16 instructions (AMD Zen 3): oneDNN would emulate them, 9.5x slower
    ({"avx2", "avx512f", "avx512_bf16"}, "bf16"),  # bf16 dot products (AMD Zen 4 and 5; benchmark 9)
    ({"avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}, "bf16"),  # Intel AMX (benchmark 9)
    ({"amx_tile"}, "fp32"),  # tiles without bf16 (not a real CPU, but the rule's edge)
])
def test_a_cpu_trains_in_bf16_by_default_only_where_it_computes_bf16_in_hardware(flags: set[str], name: str) -> None:
    assert cpu_default(flags) == name


@pytest.mark.parametrize("flags", [{"avx512f", "avx512_bf16", "amx_tile", "amx_bf16"}, {"avx512_bf16"}, set()])
def test_torchvisions_zoo_models_stay_in_fp32_on_a_cpu_unless_bf16_is_requested(flags: set[str]) -> None:
    # resnet50 went to a nan loss under bf16 on an AMX Xeon where fp32 trained it (CPU_FP32_ARCHS)
    assert cpu_default(flags, "torchvision") == "fp32"
    assert cpu_default(flags, "resnet") == cpu_default(flags)
    assert choose(CPU, arch="torchvision").name == "fp32"
    assert choose(CPU, "bf16", arch="torchvision").name == "bf16"


def test_the_cpu_default_follows_this_cpus_flags_with_conv_nets_in_channels_last() -> None:
    precision = choose(CPU)
    assert precision.name == cpu_default(cpu_flags()) and precision.channels_last
    fp32 = choose(CPU, "fp32")
    assert fp32.dtype is None and fp32.autocast().__class__.__name__ == "nullcontext" and fp32.scaler() is None


@pytest.mark.parametrize("name", CHOICES)
def test_a_requested_precision_keeps_channels_last(name: str) -> None:
    assert choose(CPU, name.upper()).name == name and choose(CPU, name).channels_last


def test_an_unknown_precision_names_the_choices() -> None:
    with pytest.raises(Exception, match="precision is 'fp8', but must be one of fp32, bf16, fp16"):
        choose(CPU, "fp8")


def test_the_layout_converts_images_and_conv_weights_only() -> None:
    precision = choose(CPU)
    model = precision.prepare_model(build_model({"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 8,
                                                 "head": "flatten"}, (3, 28, 28), 10))
    conv = next(p for p in model.parameters() if p.dim() == 4)
    assert conv.is_contiguous(memory_format=torch.channels_last) and not conv.is_contiguous()
    assert precision.prepare_input(torch.zeros(2, 3, 8, 8)).is_contiguous(memory_format=torch.channels_last)
    flat = torch.zeros(2, 5)
    assert precision.prepare_input(flat) is flat  # an MLP's or a table's rows are left alone


@pytest.mark.parametrize("model", [
    {"arch": "small_resnet", "block": "basic", "stages": [1, 1, 1], "width": 8},
    {"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 8, "head": "flatten"},
])
def test_weights_trained_in_channels_last_load_into_a_fresh_model_and_predict_the_same(model: dict) -> None:
    splits = data.make_splits(data.load("synthetic"), val_fraction=0.25, seed=0)
    config = TrainConfig(model=model, optimizer="adam", lr=1e-2, batch_size=64, epochs=4, schedule="cosine")
    result = train(config, splits, CPU)
    assert result.metrics["val_accuracy"] > 0.5  # 4 classes: it learned

    fresh = build_model(model, splits.input_shape, splits.num_classes)
    fresh.load_state_dict(result.model.state_dict())
    assert all(p.is_contiguous() for p in fresh.parameters())  # the state dict did not carry the layout over
    x = splits.val.x[:128]
    torch.testing.assert_close(predict_logits(fresh, x), predict_logits(result.model, x), rtol=1e-4, atol=1e-4)
