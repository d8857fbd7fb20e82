"""Test-time augmentation as a way of running a model: the mirror view averaged in."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from hpo.errors import UsageError
from hpo.models import build_model
from hpo.models.test_time import FlipAveraged, with_test_time


def test_flip_averaged_is_the_mean_of_the_image_and_its_mirror_image() -> None:
    torch.manual_seed(0)
    model = build_model({"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 4}, (1, 8, 8), 10).eval()
    x = torch.randn(5, 1, 8, 8)
    with torch.no_grad():
        expected = (model(x) + model(x.flip(3))) / 2
        assert torch.allclose(FlipAveraged(model)(x), expected, atol=1e-6)
        assert not torch.allclose(model(x), expected, atol=1e-3)  # the view changes the logits


def test_the_wrapper_keeps_the_weights_and_the_mode() -> None:
    model = nn.Linear(4, 2).train()
    wrapped = with_test_time(model, "flip")
    assert wrapped.training and wrapped.model is model  # the same weights, not a copy
    assert with_test_time(model, "none") is model and with_test_time(model, None) is model


def test_an_unknown_mode_names_the_choices() -> None:
    with pytest.raises(UsageError, match="unknown test-time augmentation 'rotate'; choose one of: flip, none"):
        with_test_time(nn.Linear(4, 2), "rotate")
