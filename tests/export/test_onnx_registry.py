"""Every registered architecture and activation exports to ONNX and matches PyTorch.

Generated from the registries, so a new entry is checked the moment it exists.
"""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hpo.export.onnx_io import make_session, run_session, to_onnx_proto
from hpo.export.parity import measure_parity, require_parity
from hpo.models.activations import ACTIVATIONS, get_activation
from hpo.models.registry import ARCHITECTURES, build_model

SHAPE = (3, 12, 12)


def _check(model: nn.Module, input_shape: tuple[int, ...], what: str) -> None:
    model.eval()
    session = make_session(to_onnx_proto(model, input_shape).SerializeToString())
    x = torch.randn(33, *input_shape, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode():
        reference = model(x)
    require_parity(measure_parity(reference, run_session(session, x), "random", "inputs"), what)


@pytest.mark.parametrize("arch", list(ARCHITECTURES))
def test_architecture_exports_with_parity(arch: str) -> None:
    _check(build_model({"arch": arch}, SHAPE, 5), SHAPE, f"architecture {arch!r}")


def test_every_activation_exports_with_parity() -> None:
    """One export for all of them: a chain of Linear -> activation, one link per registered name."""
    torch.manual_seed(0)
    layers: list[nn.Module] = []
    for name in ACTIVATIONS:
        layers += [nn.Linear(8, 8), get_activation(name)()]
    model = nn.Sequential(*layers)
    with torch.no_grad():  # move learnable activation parameters off their initial values
        for p in model.parameters():
            p.add_(0.05 * torch.randn_like(p))
    _check(model, (8,), f"activations {', '.join(ACTIVATIONS)}")
