"""What a run records besides its metrics, to check a report's claims from the study.

- ``grad_norms_epoch1``: each layer's mean gradient norm over the first epoch's steps, input to
  output. Report 001 says plain CNNs of 6+ layers suffer from vanishing gradients and residual
  ones do not; with this, the first layers' norms against the last ones' show it or not.
- ``loss_curves``: training and validation loss per epoch. Reports 003 and 004 read overfitting
  and SGD-vs-Adam convergence from these two curves side by side.

Both are plain JSON (names, floats, lists), so the worker stores them as trial user attrs
under these keys, and ``hpo report`` draws the loss curves from them.
"""

from __future__ import annotations

import math
from typing import Any

import torch
from torch import nn

GRAD_NORMS = "grad_norms_epoch1"
LOSS_CURVES = "loss_curves"


def _layers(model: nn.Module) -> list[tuple[str, list[nn.Parameter]]]:
    """(label, weights) of every module that owns weight matrices or conv kernels.

    Biases, batch-norm scales and activation parameters (all 1-D) are left out: the question
    is how much gradient reaches each layer's weights, input to output.
    """
    found = []
    for name, module in model.named_modules():
        weights = [p for p in module.parameters(recurse=False) if p.dim() >= 2 and p.requires_grad]
        if weights:
            found.append((f"{name or 'model'} ({type(module).__name__})", weights))
    return found


class GradNormMeter:
    """Per-layer gradient L2 norms, averaged over the optimizer steps it is shown.

    Norms stay on the device until :meth:`result`, so measuring adds no per-step device sync.
    Steps whose gradients are not finite (fp16 steps the GradScaler skips) are not counted.
    """

    def __init__(self, model: nn.Module) -> None:
        self.layers = _layers(model)
        self.total: torch.Tensor | None = None
        self.steps: torch.Tensor | None = None

    def update(self) -> None:
        """Read the gradients of the step just taken by ``backward`` (before ``zero_grad``)."""
        if not self.layers:
            return
        norms = torch.stack([
            torch.linalg.vector_norm(torch.stack([
                torch.linalg.vector_norm(p.grad.detach().float()) if p.grad is not None else p.new_zeros((), dtype=torch.float32)
                for p in weights
            ]))
            for _label, weights in self.layers
        ])
        finite = torch.isfinite(norms).all()
        if self.total is None or self.steps is None:
            self.total, self.steps = torch.zeros_like(norms), torch.zeros((), device=norms.device)
        self.total += torch.where(finite, norms, torch.zeros_like(norms))
        self.steps += finite.float()

    def result(self) -> dict[str, float]:
        """Layer label -> mean gradient norm, in the model's order (input first)."""
        if self.total is None or self.steps is None or float(self.steps) == 0:
            return {}
        means = (self.total / self.steps).tolist()
        return {label: float(value) for (label, _weights), value in zip(self.layers, means, strict=True)}


def loss_curves(history: list[dict[str, float | None]]) -> dict[str, list[Any]]:
    """``{"epoch": [...], "train_loss": [...], "val_loss": [...]}`` from a run's per-epoch history.

    A loss that is missing or not finite is None (JSON has no NaN).
    """

    def clean(value: Any) -> float | None:
        return float(value) if isinstance(value, (int, float)) and math.isfinite(value) else None

    return {
        "epoch": [int(h["epoch"] or 0) for h in history],
        "train_loss": [clean(h.get("train_loss")) for h in history],
        "val_loss": [clean(h.get("val_loss")) for h in history],
    }
