"""Batched augmentations and learning-rate schedules, every registry entry."""

from __future__ import annotations

import pytest
import torch

from hpo.errors import UsageError
from hpo.training.augment import AUGMENTATIONS, crop, erase, flip, get_augment
from hpo.training.schedules import SCHEDULES, make_schedule


def batch(n: int = 64) -> torch.Tensor:
    return torch.arange(n * 2 * 6 * 6, dtype=torch.float32).reshape(n, 2, 6, 6) + 1  # no zeros


@pytest.mark.parametrize("name", list(AUGMENTATIONS))
def test_every_augmentation_keeps_shape_and_dtype(name: str) -> None:
    x = batch()
    out = get_augment(name)(x, torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert torch.equal(x, batch())  # the input is not modified in place


def test_none_is_identity() -> None:
    assert torch.equal(get_augment("none")(batch(), None), batch())


def test_flip_mirrors_some_samples_and_keeps_the_rest() -> None:
    x = batch()
    out = flip(x, torch.Generator().manual_seed(0))
    mirrored = [torch.equal(o, s.flip(2)) for o, s in zip(out, x, strict=True)]
    kept = [torch.equal(o, s) for o, s in zip(out, x, strict=True)]
    assert all(m or k for m, k in zip(mirrored, kept, strict=True))
    assert 10 < sum(mirrored) < 54


def test_crop_translates_each_sample_by_at_most_pad() -> None:
    x = batch()
    out = crop(x, torch.Generator().manual_seed(0), pad=2)
    shifts = set()
    for o, s in zip(out, x, strict=True):
        padded = torch.nn.functional.pad(s, (2, 2, 2, 2))
        found = [(dy, dx) for dy in range(5) for dx in range(5) if torch.equal(o, padded[:, dy : dy + 6, dx : dx + 6])]
        assert found, "a crop is a window of the zero-padded image"
        shifts.add(found[0])
    assert len(shifts) > 5  # each sample has its own offset


def test_erasing_zeros_one_box_in_some_samples() -> None:
    x = batch()
    out = erase(x, torch.Generator().manual_seed(0), p=0.5)
    zeros = (out == 0).flatten(1).sum(1)
    # A quarter of each side: a 1x1 box on 6x6, over both channels.
    assert set(zeros.tolist()) <= {0, 2} and 10 < int((zeros > 0).sum()) < 54


def test_flip_crop_erasing_is_the_warm_starts_flip_and_crop_then_erasing() -> None:
    x = torch.randn(64, 1, 28, 28)
    out = get_augment("flip+crop+erasing")(x, torch.Generator().manual_seed(0))
    gen = torch.Generator().manual_seed(0)
    assert torch.equal(out, erase(crop(flip(x, gen), gen), gen))
    assert not torch.equal(out, get_augment("flip+crop")(x, torch.Generator().manual_seed(0)))


def test_unknown_augmentation_lists_choices() -> None:
    with pytest.raises(UsageError, match="unknown augmentation 'mixup'; choose one of: crop, erasing, flip"):
        get_augment("mixup")


@pytest.mark.parametrize("name", list(SCHEDULES))
def test_every_schedule_runs_its_steps(name: str) -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    schedule = make_schedule(name, opt, 30)
    rates = []
    for _ in range(30):
        opt.step()
        if schedule is not None:
            schedule.step()
        rates.append(opt.param_groups[0]["lr"])
    expected_last = {"none": 0.1, "cosine": 0.0, "step": 0.1 * 0.1**3}
    if name in expected_last:
        assert rates[-1] == pytest.approx(expected_last[name], abs=1e-9)
    if name == "onecycle":  # warms up to the base rate, then anneals far below it
        assert max(rates) == pytest.approx(0.1) and rates[-1] < 0.001


def test_unknown_schedule_lists_choices() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=0.1)
    with pytest.raises(UsageError, match="unknown lr schedule 'exponential'; choose one of: cosine, linear, none, onecycle, step"):
        make_schedule("exponential", opt, 10)
