"""Choosing the mirror view on validation: only for models trained on mirror images, only when it scores higher."""

from __future__ import annotations

import torch
from torch import nn

from hpo.data.splits import Split
from hpo.training.test_time import choose_test_time


class LeftCue(nn.Module):
    """Class 0 when the left half is brighter, else class 1 (a bias of 0.1 breaks ties).

    Averaged with its mirror view the cue cancels, so it always says class 1."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        left, right = x[..., :2].sum((1, 2, 3)), x[..., 2:].sum((1, 2, 3))
        return torch.stack([left - right, right - left + 0.1], 1)


def _split(labels: list[int]) -> Split:
    x = torch.zeros(len(labels), 1, 4, 4)
    x[..., :2] = 1.0  # every image is brighter on the left: the bare model says class 0
    return Split(x, torch.tensor(labels))


def test_the_mirror_view_is_chosen_when_it_scores_higher_on_validation() -> None:
    val = _split([1, 1, 1, 0])  # bare: 1 of 4 right; mirror view (always 1): 3 of 4
    choice = choose_test_time(LeftCue(), val, "flip+crop", plain_accuracy=0.25)
    assert (choice.name, choice.val_accuracy_flip) == ("flip", 0.75)
    assert choice.to_attrs() == {"test_time_augment": "flip", "val_accuracy_flip": 0.75}


def test_it_is_not_chosen_when_it_scores_lower_or_the_same() -> None:
    val = _split([0, 0, 0, 1])  # bare: 3 of 4; mirror view: 1 of 4
    assert choose_test_time(LeftCue(), val, "flip", plain_accuracy=0.75).name == "none"
    assert choose_test_time(LeftCue(), val, "flip", plain_accuracy=0.25).name == "none"  # a tie keeps the bare model


def test_a_model_that_never_saw_a_mirror_image_is_not_offered_it() -> None:
    choice = choose_test_time(LeftCue(), _split([1, 1, 1, 1]), "crop", plain_accuracy=0.0)
    assert (choice.name, choice.val_accuracy_flip) == ("none", None)
    assert choice.to_attrs() == {"test_time_augment": "none"}
