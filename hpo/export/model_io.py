"""Rebuilding a model from a checkpoint, with no study or storage needed."""

from __future__ import annotations

from typing import Any

from torch import nn

from hpo.checkpoint import load_checkpoint
from hpo.errors import HpoError
from hpo.models import build_model
from hpo.models.test_time import with_test_time

# What a checkpoint's weights are (its meta's "weights"): honest test numbers need to know.
SEARCH_WEIGHTS = "trained by the search on the train split"
RETRAINED = "retrained on train+val"


def model_from_checkpoint(checkpoint: dict[str, Any], test_time: bool = True) -> nn.Module:
    """The checkpoint's model in eval mode, run as its meta's ``test_time_augment`` says (the bare
    network with ``test_time=False``, for reading its layers), with the meta as ``hpo_meta``."""
    meta = checkpoint["meta"]
    model = build_model(meta["model"], meta["input_shape"], meta["num_classes"])
    try:
        model.load_state_dict(checkpoint["state_dict"])
    except RuntimeError as exc:
        raise HpoError(f"checkpoint weights do not fit its model description: {str(exc).splitlines()[0]}") from None
    if test_time:
        model = with_test_time(model, meta.get("test_time_augment"))
    model.eval()
    model.hpo_meta = meta
    return model


def load_model(path: str) -> nn.Module:
    """Verify the checkpoint at ``path`` and rebuild its model in eval mode."""
    return model_from_checkpoint(load_checkpoint(path))
