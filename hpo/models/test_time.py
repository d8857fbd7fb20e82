"""Test-time augmentation: a trained model's logits averaged over transformed copies of its input.

A model trained on mirrored images (the ``flip`` augmentations of hpo.training.augment) sees
each test image and its mirror image as equally likely; averaging the two predictions removes
the part of its error that depends on which side it was shown (the airbench recipe). On the
``auto`` warm start trained 30 minutes on Fashion-MNIST it added 0.24 points of validation and
0.40 of test accuracy to the same weights, and 0.05 and 0.07 to one trained with random erasing
as well (benchmarks/final_size.py, docs/benchmarks.md).

It is a property of how a model is run, not of its weights: checkpoints hold the bare network,
and their meta names the mode (``test_time_augment``), which :func:`with_test_time` applies
whenever one is loaded, exported or evaluated. The choice is made on validation
(hpo.training.test_time), so no test image decides it.
"""

from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from hpo.errors import unknown_name


class FlipAveraged(nn.Module):
    """``model``'s logits averaged over the image and its left-right mirror image."""

    def __init__(self, model: nn.Module) -> None:
        super().__init__()
        self.model = model

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        # One batch of both views: one pass through the network instead of two smaller ones.
        n = x.shape[0]
        logits = self.model(torch.cat([x, x.flip(-1)]))
        return (logits[:n] + logits[n:]) / 2


NONE = "none"
TEST_TIME: dict[str, Callable[[nn.Module], nn.Module]] = {NONE: lambda model: model, "flip": FlipAveraged}


def with_test_time(model: nn.Module, name: str | None) -> nn.Module:
    """``model`` run as test-time mode ``name`` says (None, from a checkpoint that predates it: as it is)."""
    if name is None:
        return model
    if name not in TEST_TIME:
        raise unknown_name("test-time augmentation", name, TEST_TIME)
    wrapped = TEST_TIME[name](model)
    wrapped.train(model.training)
    return wrapped
