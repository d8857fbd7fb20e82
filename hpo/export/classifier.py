"""One way to run any exported model: a sealed .pt checkpoint or a self-describing .onnx file."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import torch
from torch import nn

from hpo.export.evaluate import normalize
from hpo.export.model_io import load_model
from hpo.export.onnx_io import load_onnx
from hpo.training.loop import predict_logits


class Classifier(Protocol):
    """What predict and evaluate need: the model's description and logits for [0, 1] pixels."""

    meta: dict[str, Any]

    def logits(self, x: torch.Tensor) -> torch.Tensor: ...


@dataclass
class TorchClassifier:
    model: nn.Module
    meta: dict[str, Any]

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        # The checkpoint holds the bare network, trained on normalized images.
        return predict_logits(self.model, normalize(x, self.meta))


def load_classifier(path: str | os.PathLike[str]) -> Classifier:
    """``.onnx`` files run on ONNX Runtime; anything else must be an hpo checkpoint (verified)."""
    if Path(path).suffix.lower() == ".onnx":
        return load_onnx(path)
    model = load_model(str(path))
    # load_model attached the checkpoint's meta dict; nn.Module's __getattr__ types every
    # attribute as Tensor | Module, so mypy cannot see it is that dict.
    return TorchClassifier(model, model.hpo_meta)  # type: ignore[arg-type]
