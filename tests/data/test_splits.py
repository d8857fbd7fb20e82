"""The validation split and the subsets (hpo.data.splits), on real data sets."""

from __future__ import annotations

import pytest

from hpo import data
from hpo.data.splits import check_subsets, split_sizes, train_images
from hpo.errors import UsageError


@pytest.mark.parametrize("val_fraction", [0.1, 0.25])
@pytest.mark.parametrize("subset", [None, 100])
def test_the_counted_training_images_are_the_ones_a_split_holds(val_fraction: float, subset: int | None) -> None:
    # A worker sizes a final run by the count without making its split (hpo.worker.loop).
    images = data.load("digits")
    splits = data.make_splits(images, val_fraction=val_fraction, seed=0, train_subset=subset)
    n = len(images.train_y)
    assert train_images(n, val_fraction, subset) == len(splits.train)
    assert split_sizes(n, val_fraction) == (n - len(splits.val), len(splits.val))


def test_a_subset_larger_than_the_split_names_the_flag_and_the_largest_it_may_be() -> None:
    n_train, _ = split_sizes(1000, 0.1)
    check_subsets("x", 1000, 0.1, n_train, None)  # all of it is allowed
    with pytest.raises(UsageError, match=f"--final-train-subset is {n_train + 1}, .* pass --final-train-subset {n_train} or less"):
        check_subsets("x", 1000, 0.1, n_train + 1, None, train_flag="--final-train-subset")
