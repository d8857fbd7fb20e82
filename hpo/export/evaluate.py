"""Evaluating an exported model (.pt or .onnx) on a split of its data set."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from hpo import data
from hpo.data.splits import Normalization, Split, validation_indices
from hpo.errors import UsageError
from hpo.export import SPLITS
from hpo.export.model_io import RETRAINED
from hpo.training.metrics import classification_metrics, confusion_matrix


@dataclass(frozen=True)
class Evaluation:
    dataset: str
    split: str
    n: int
    metrics: dict[str, float | None]
    confusion: np.ndarray
    classes: list[str]
    # Whether each image was classified right, in the split's order: two models scored on the
    # same images compare image by image (a paired test), finer than their accuracies do.
    correct: np.ndarray


def normalization_of(meta: dict[str, Any]) -> Normalization:
    return Normalization(tuple(meta["normalization"]["mean"]), tuple(meta["normalization"]["std"]))


def to_pixels(images: torch.Tensor) -> torch.Tensor:
    """uint8 (N, C, H, W) images -> float32 pixels in [0, 1]: what every exported model takes."""
    return images.float().div(255.0)


def normalize(pixels: torch.Tensor, meta: dict[str, Any]) -> torch.Tensor:
    """[0, 1] pixels -> the normalized input a bare network (hpo's checkpoint) was trained on."""
    norm = normalization_of(meta)
    mean = torch.tensor(norm.mean, device=pixels.device).view(1, -1, 1, 1)
    std = torch.tensor(norm.std, device=pixels.device).view(1, -1, 1, 1)
    return (pixels - mean) / std


def split_for(meta: dict[str, Any], dataset: str | None, split: str) -> tuple[str, Split]:
    """The images (float32 pixels in [0, 1], not normalized) and labels of ``split`` of the
    model's (or the given) data set."""
    if split not in SPLITS:
        raise UsageError(f"--split is {split!r}; choose one of: {', '.join(SPLITS)}")
    name = dataset or meta["dataset"]
    loaded = data.load(name)
    if tuple(loaded.input_shape) != tuple(meta["input_shape"]):
        raise UsageError(f"data set {name!r} has images of shape {loaded.input_shape}, the model expects {tuple(meta['input_shape'])}")
    if split == "test":
        return name, Split(to_pixels(loaded.test_x), loaded.test_y)
    if meta.get("weights") == RETRAINED:
        raise UsageError("this model was retrained on train+val, so its validation split is not held out; use --split test")
    # The validation split the search used: same fraction and seed as the study.
    cfg = meta.get("study_config", {})
    _train_idx, val_idx = validation_indices(len(loaded.train_y), cfg.get("val_fraction", 0.1), cfg.get("seed", 0))
    return name, Split(to_pixels(loaded.train_x[val_idx]), loaded.train_y[val_idx])


def evaluate_checkpoint(path: str, dataset: str | None = None, split: str = "test") -> Evaluation:
    """Metrics and confusion matrix of the model at ``path`` (.pt checkpoint or .onnx file)."""
    from hpo.export.classifier import load_classifier

    model = load_classifier(path)
    name, part = split_for(model.meta, dataset, split)
    logits = model.logits(part.x)
    return Evaluation(name, split, len(part), classification_metrics(logits, part.y), confusion_matrix(logits, part.y),
                      list(model.meta["classes"]), (logits.argmax(1) == part.y).cpu().numpy())
