"""Train / validation / test tensors, normalized and placed on the training device.

The search only ever sees ``train`` and ``val``, both carved from the data set's training split
with a fixed seed. ``test`` is for the final evaluation of an exported model.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch

from hpo.errors import UsageError

from hpo.data.base import ImageData


@dataclass(frozen=True)
class Normalization:
    mean: tuple[float, ...]
    std: tuple[float, ...]

    @classmethod
    def fit(cls, images: torch.Tensor) -> Normalization:
        """Per-channel mean and std of uint8 images, in the 0..1 scale."""
        x = images.float().div_(255.0)
        mean = x.mean(dim=(0, 2, 3))
        std = x.std(dim=(0, 2, 3)).clamp_min(1e-6)
        return cls(tuple(round(v, 6) for v in mean.tolist()), tuple(round(v, 6) for v in std.tolist()))

    def apply(self, images: torch.Tensor, device: torch.device | str = "cpu") -> torch.Tensor:
        """uint8 (N, C, H, W) -> normalized float32 on ``device``."""
        x = images.to(device).float().div_(255.0)
        mean = torch.tensor(self.mean, device=x.device).view(1, -1, 1, 1)
        std = torch.tensor(self.std, device=x.device).view(1, -1, 1, 1)
        return x.sub_(mean).div_(std)

    def to_dict(self) -> dict[str, list[float]]:
        return {"mean": list(self.mean), "std": list(self.std)}


@dataclass(frozen=True)
class Split:
    x: torch.Tensor  # normalized float32 (N, C, H, W), on the training device
    y: torch.Tensor  # int64 (N,), on the training device

    def __len__(self) -> int:
        return len(self.y)


@dataclass(frozen=True)
class Splits:
    """What one training run sees."""

    train: Split
    val: Split
    normalization: Normalization
    classes: tuple[str, ...]
    input_shape: tuple[int, int, int]
    dataset: str

    @property
    def num_classes(self) -> int:
        return len(self.classes)


def validation_indices(
    n: int, val_fraction: float, seed: int
) -> tuple[torch.Tensor, torch.Tensor]:
    """Deterministic (train, val) index sets for ``n`` training images."""
    if not 0.0 < val_fraction < 1.0:
        raise ValueError(f"val_fraction is {val_fraction}, but must be in (0, 1)")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    n_val = n - split_sizes(n, val_fraction)[0]
    return order[n_val:], order[:n_val]


def split_sizes(n: int, val_fraction: float) -> tuple[int, int]:
    """(training, validation) images that ``n`` training images of a data set split into."""
    n_val = max(1, int(round(n * val_fraction)))
    return n - n_val, n_val


def train_images(n: int, val_fraction: float, train_subset: int | None) -> int:
    """The images an epoch trains on: the subset, else the whole training split."""
    return train_subset if train_subset is not None else split_sizes(n, val_fraction)[0]


def check_subsets(name: str, n: int, val_fraction: float, train_subset: int | None, val_subset: int | None,
                  train_flag: str = "--train-subset") -> None:
    """Refuse a ``--train-subset`` / ``--val-subset`` larger than what the split has: it would
    silently train on all of it while the study claims a subset. ``train_flag``: the option
    that asked for ``train_subset``, named in the message."""
    n_train, n_val = split_sizes(n, val_fraction)
    for flag, asked, has, what in ((train_flag, train_subset, n_train, "training"),
                                   ("--val-subset", val_subset, n_val, "validation")):
        if asked is not None and asked > has:
            raise UsageError(f"{flag} is {asked}, but data set {name!r} has {has} {what} images "
                             f"(with --val-fraction {val_fraction:g}); pass {flag} {has} or less")


def make_splits(
    data: ImageData,
    *,
    val_fraction: float,
    seed: int,
    device: torch.device | str = "cpu",
    train_subset: int | None = None,
    val_subset: int | None = None,
    include_val_in_train: bool = False,
) -> Splits:
    """Carve the validation split from the training data and normalize both.

    ``include_val_in_train`` trains on train+val (for a final retrain before the test split);
    the returned ``val`` is then still the held-out part, for reference only.
    """
    train_idx, val_idx = validation_indices(len(data.train_y), val_fraction, seed)
    check_subsets(data.name, len(data.train_y), val_fraction, train_subset, val_subset)
    if train_subset is not None:
        train_idx = train_idx[:train_subset]
    if val_subset is not None:
        val_idx = val_idx[:val_subset]
    if include_val_in_train:
        train_idx = torch.cat([train_idx, val_idx])
    norm = Normalization.fit(data.train_x[train_idx])
    return Splits(
        train=Split(norm.apply(data.train_x[train_idx], device), data.train_y[train_idx].to(device)),
        val=Split(norm.apply(data.train_x[val_idx], device), data.train_y[val_idx].to(device)),
        normalization=norm,
        classes=data.classes,
        input_shape=data.input_shape,
        dataset=data.name,
    )


def test_split(data: ImageData, norm: Normalization, device: torch.device | str = "cpu") -> Split:
    """The untouched test split, normalized with the statistics the model was trained with."""
    return Split(norm.apply(data.test_x, device), data.test_y.to(device))
