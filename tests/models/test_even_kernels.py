"""Even kernels (report 004's kernel 3..7 is every integer) keep the map's size and export to ONNX."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hpo.models import build_model, conv_names, get_conv
from hpo.spaces import get_space

pytest.importorskip("onnxruntime")
pytest.importorskip("onnxscript")

# The export-and-compare check every registry entry gets (tests/export).
from tests.export.test_onnx_registry import _check as _check_onnx  # noqa: E402


def test_every_conv_type_with_even_kernels_exports_to_onnx_with_parity() -> None:
    """One graph: each registered conv type with kernels 2, 4 and 6 in a chain, on a map with odd
    and even sides, so the asymmetric 'same' padding must survive the export for all of them."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for name in conv_names():
        for kernel in (2, 4, 6):
            layers += [get_conv(name)(3, 3, kernel, True), nn.Tanh()]
    model = nn.Sequential(*layers)
    assert model(torch.zeros(1, 3, 9, 8)).shape == (1, 3, 9, 8)
    _check_onnx(model, (3, 9, 8), f"even kernels of conv types {', '.join(conv_names())}")


def test_the_cnn_spaces_kernel_4_model_exports_to_onnx_with_parity() -> None:
    """The model the ``cnn`` space builds (report 004's flatten head) with an even kernel."""
    space = get_space("cnn")
    model = build_model(space.build(space.validate({**dict(space.defaults or {}), "kernel": 4}), 1).model, (1, 28, 28), 10)
    _check_onnx(model, (1, 28, 28), "the cnn space with kernel 4")
