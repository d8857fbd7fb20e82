"""What is the best image classifier within my budget? Small ResNets and their training recipes.

The kind of model and recipe that reaches 93-95 % test accuracy on 28x28 and 32x32 images
(Fashion-MNIST, CIFAR) when trained long enough: residual CNNs with batch norm
(hpo.models.small_resnet: basic blocks, three stages), SGD with Nesterov momentum (or AdamW)
under a one-cycle or cosine schedule over the trial's epochs, label smoothing, and random-crop
+ flip augmentation on tensors. On a GPU, training runs in bf16 autocast with channels_last
by itself (hpo.training.precision); nothing here asks for it.

Sized for the device the space is loaded on (HPO_DEVICE, else whether CUDA is visible):

- CPU: the stem max-pools to 14x14 first, widths 16-24, one or two blocks per stage: 30-75 s
  of CPU per Fashion-MNIST training epoch on one core (docs/benchmarks.md, benchmark 6).
  Trials train 9 epochs (promotion rungs 1, 3, 9): the promotion scheduler needs about 21
  epochs of compute to bring one trial to epoch 9, which fits in an hour of one core; with 27
  epochs it needs about 81, which does not. Pass ``--epochs`` for budgets of many core-hours.
- GPU: full-resolution stages (or the pooled stem), widths 32-128, one to three blocks per
  stage, batches up to 512; trials train 27 epochs (rungs 1, 3, 9, 27). Sized from
  multiply-adds, not timed: no GPU was at hand when it was written.

Attention blocks are not offered: on a CPU the ``auto`` space's old ``attention=True`` took 2
minutes for 3 epochs on 10,000 images (issue 15), and on a GPU they are untried here.

Both profiles use the same parameter names, with numeric ranges that differ, so CPU and GPU
workers can share a study (Optuna accepts other ranges for a numeric parameter, not other
choices for a categorical one).

Warm start: a recipe that is strong on its own, not a weak baseline to beat: one basic block
per stage, SGD with Nesterov momentum (0.9) at a one-cycle peak of 0.1 with weight decay
5e-4, label smoothing 0.1, flip + crop, batch 128 (the rate of He et al. 2016's CIFAR
ResNets, Smith's one-cycle schedule, Szegedy et al.'s label smoothing). Measured on one CPU
thread, 8 epochs on full Fashion-MNIST: 0.923 validation / 0.914 test accuracy; SGD at 0.2 was
level on validation and AdamW a little lower (docs/benchmarks.md).

It replaces the earlier ``auto`` space (every architecture, activation and optimizer of the
reference spaces), whose warm start (a 2-block CNN, Adam at 1e-3) scored 0.74-0.83 validation
accuracy over 5 epochs and whose documented study's best was 0.834 (issue 15).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from hpo.errors import UsageError
from hpo.settings import Settings
from hpo.spaces import Param, SearchSpace
from hpo.spaces.sizing import SizeKnob
from hpo.training import TrainConfig


@dataclass(frozen=True)
class Profile:
    """What a device can afford: model sizes, batch sizes, epochs per trial, the warm start's model."""

    name: str
    width: IntDistribution  # planes of the first stage
    blocks: IntDistribution  # basic blocks per stage
    stem_pool: IntDistribution  # 2: halve the image after the stem; 1: keep it
    batch_size: IntDistribution
    epochs: int
    default_model: dict[str, int]  # the warm start's active model parameters


# CPU seconds per Fashion-MNIST training epoch (54,000 images, batch 128) on one core, measured
# with this recipe (docs/benchmarks.md, benchmark 6): width 16 30-41 s, 20 57 s, 24 70-72 s,
# 16 with two blocks per stage 61-75 s; 24 with two blocks (102-124 s) and 32 (102-118 s) are
# left out. Validation adds about 3 s.
CPU = Profile("cpu", width=IntDistribution(16, 24, step=4), blocks=IntDistribution(1, 2),
              stem_pool=IntDistribution(2, 2), batch_size=IntDistribution(128, 256, step=128), epochs=9,
              default_model={"width": 24, "stem_pool": 2})  # one block per stage: "blocks" is not asked at 24
GPU = Profile("gpu", width=IntDistribution(32, 128, step=32), blocks=IntDistribution(1, 3),
              stem_pool=IntDistribution(1, 2), batch_size=IntDistribution(128, 512, step=128), epochs=27,
              default_model={"width": 64, "blocks": 2, "stem_pool": 1})
CPU_MAX_WIDTH_FOR_TWO_BLOCKS = 16


def device_profile(device: str | None = None) -> Profile:
    """The profile for ``device`` (HPO_DEVICE's syntax); default: HPO_DEVICE, else CUDA when visible."""
    spec = device if device is not None else Settings.from_env().device
    if spec == "auto":
        return GPU if torch.cuda.is_available() else CPU
    if spec == "cpu":
        return CPU
    if spec.startswith("cuda"):
        return GPU
    raise UsageError(f"device {spec!r} is not one of auto, cpu, cuda, cuda:N, cuda:auto")


def build(p: dict[str, Any], epochs: int) -> TrainConfig:
    optimizer = p["optimizer"]
    return TrainConfig(
        model={"arch": "small_resnet", "block": "basic", "stages": [p.get("blocks", 1)] * 3,
               "width": p["width"], "stem_pool": p["stem_pool"]},
        optimizer=optimizer,
        lr=p[f"{optimizer}_lr"],
        weight_decay=p[f"{optimizer}_weight_decay"],
        batch_size=p["batch_size"],
        epochs=epochs,
        schedule=p["schedule"],
        label_smoothing=p["label_smoothing"],
        augment=p["augment"],
    )


def params(profile: Profile) -> tuple[Param, ...]:
    blocks = Param("blocks", profile.blocks)
    if profile is CPU:  # two blocks per stage at width 24 take ~2 min per epoch on a core
        blocks = blocks.only_if("width", *range(profile.width.low, CPU_MAX_WIDTH_FOR_TWO_BLOCKS + 1, profile.width.step))
    return (
        Param("width", profile.width),
        blocks,
        Param("stem_pool", profile.stem_pool),
        Param("optimizer", CategoricalDistribution(["sgd", "adamw"])),
        # Rates are not comparable across optimizers (SGD's peak is ~30x AdamW's), and AdamW's
        # decoupled decay is ~100x SGD's L2 term: each optimizer has its own two parameters.
        Param("sgd_lr", FloatDistribution(0.02, 0.4, log=True)).only_if("optimizer", "sgd"),
        Param("sgd_weight_decay", FloatDistribution(5e-5, 2e-3, log=True)).only_if("optimizer", "sgd"),
        Param("adamw_lr", FloatDistribution(5e-4, 8e-3, log=True)).only_if("optimizer", "adamw"),
        Param("adamw_weight_decay", FloatDistribution(5e-3, 0.2, log=True)).only_if("optimizer", "adamw"),
        Param("schedule", CategoricalDistribution(["onecycle", "cosine"])),
        Param("label_smoothing", FloatDistribution(0.0, 0.2)),
        # Horizontal flips suit Fashion-MNIST too (clothes are left-right symmetric); no
        # augmentation at all is left out: it wins the early rungs and then overfits.
        Param("augment", CategoricalDistribution(["flip+crop", "crop"])),
        Param("batch_size", profile.batch_size),
    )


def defaults(profile: Profile) -> dict[str, Any]:
    """The warm start: the strong textbook recipe (see the module docstring), sized for ``profile``."""
    return {**profile.default_model, "optimizer": "sgd", "sgd_lr": 0.1, "sgd_weight_decay": 5e-4,
            "schedule": "onecycle", "label_smoothing": 0.1, "augment": "flip+crop", "batch_size": 128}


# What a long final run may grow the chosen network to (hpo.spaces.sizing): wider first-stage
# planes, then more blocks per stage, as far as its measured pace still fits its minimum
# epochs. Width first: on 2 CPU cores a wider stage cost less time per epoch than a deeper one
# and tested better (width 64 x 1 block: 42 s, 94.44 %; 32 x 2: 66 s, 93.65 %; T = 30 min).
# "blocks" is not asked above width 16 on a CPU, where build() trains one block per stage.
# The stem's pooling is not a knob: measured on 2 cores, width 32 with the stem unpooled
# (28 x 28 maps) trained 16 epochs to 93.00 % test at T = 30 min, where width 32 x 2 pooled
# trained 28 to 93.65 % and width 32 pooled 81 to 94.21 %; at T = 60 min the unpooled one
# trained 49 epochs to 94.29 %, only level with the pooled one at half the time
# (docs/benchmarks.md, final-run size).
SIZE_KNOBS = (SizeKnob("width", (16, 20, 24, 32, 48, 64, 96, 128)), SizeKnob("blocks", (1, 2, 3), absent=1))


def make_space(profile: Profile) -> SearchSpace:
    return SearchSpace(name="auto", description=__doc__ or "", params=params(profile), build=build,
                       default_epochs=profile.epochs, defaults=defaults(profile), size_knobs=SIZE_KNOBS)


PROFILE = device_profile()
SPACE = make_space(PROFILE)
