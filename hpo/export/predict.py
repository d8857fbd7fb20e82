"""Classifying image files with an exported model, preprocessed exactly as in training."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from hpo.errors import HpoError, UsageError
from hpo.export.classifier import Classifier
from hpo.export.evaluate import to_pixels

# PIL mode for each channel count the models are trained on.
MODES = {1: "L", 3: "RGB"}


def load_image(path: str | Path, input_shape: Sequence[int]) -> torch.Tensor:
    """One image file -> uint8 (C, H, W) in the model's channels and size."""
    from PIL import Image, UnidentifiedImageError

    channels, height, width = (int(d) for d in input_shape)
    if channels not in MODES:
        raise UsageError(f"the model takes {channels}-channel images; image files can feed 1 or 3 channels")
    try:
        with Image.open(path) as opened:
            image = opened.convert(MODES[channels])
            if image.size != (width, height):
                # Area averaging when shrinking (no aliasing), bilinear when enlarging.
                shrink = image.size[0] >= width and image.size[1] >= height
                image = image.resize((width, height), Image.Resampling.BOX if shrink else Image.Resampling.BILINEAR)
            array = np.asarray(image, dtype=np.uint8)
    except FileNotFoundError:
        raise HpoError(f"image {str(path)!r} does not exist") from None
    except (UnidentifiedImageError, OSError) as exc:
        raise HpoError(f"image {str(path)!r} cannot be read as an image ({exc}); give PNG, JPEG or another PIL format") from None
    if array.ndim == 2:
        array = array[:, :, None]
    return torch.from_numpy(array.copy()).permute(2, 0, 1).contiguous()


@dataclass(frozen=True)
class Prediction:
    path: str
    top: list[tuple[str, float]]  # (class name, probability), most likely first

    @property
    def label(self) -> str:
        return self.top[0][0]

    @property
    def probability(self) -> float:
        return self.top[0][1]


def predict_files(model: Classifier, paths: Sequence[str | Path], top: int = 3) -> list[Prediction]:
    """Class probabilities for each image file, the model normalizing them as in training."""
    meta = model.meta
    images = torch.stack([load_image(p, meta["input_shape"]) for p in paths])
    probs = torch.softmax(model.logits(to_pixels(images)).float(), dim=1)
    classes = list(meta["classes"])
    k = max(1, min(top, len(classes)))
    values, indices = probs.topk(k, dim=1)
    return [
        Prediction(str(path), [(classes[int(i)], float(v)) for v, i in zip(vals, idx)])
        for path, vals, idx in zip(paths, values, indices)
    ]
