"""Benchmark 8: a training epoch in channels_last against the contiguous (NCHW) layout.

hpo.training.precision chooses the memory layout of a run's model and batches. This measures
the choice where it matters, on the device at hand: one epoch of hpo's own epoch function
(augmentation, forward, backward, step) over real Fashion-MNIST, for the networks a search
and its final run train here:

- the `auto` space's warm start (its recipe: SGD one-cycle, flip + crop, batch 128) at the
  sizes the final run's size rule walks through (width 24 x 1 block per stage, 32 x 1, 32 x 2)
  and with the stem unpooled (32 x 1 at 28 x 28), and at width 24 with flips alone;
- the `cnn` space's 2-layer CNN (benchmark 1's model), not augmented.

The two layouts alternate epoch by epoch (benchmarks.common.interleaved); the same weights
and data go into both. Threads are the worker's (HPO_NUM_THREADS, else every core).

    python benchmarks/memory_format.py [--quick] [--json docs/benchmark-results/memory_format.json]

Prints RATIO lines channels_last / contiguous per network, of the median wall time of an
epoch (goal <= 0.9: at least 10 % faster, for the layout to be worth choosing; a crop-augmented
one-channel batch already runs channels_last in both arms, see hpo.training.precision, so
there the ratio is about 1 and the goal does not apply) and of its CPU time (the process's, a
steadier reading on a shared machine).
"""

from __future__ import annotations

import dataclasses
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import torch  # noqa: E402

from benchmarks.common import environment, epoch_parser, epoch_setup, interleaved, report  # noqa: E402

# name -> (the model spec, the augmentation): the auto space's build() at the sizes its final
# run walks through, with its warm start's flip + crop and with flips alone (its `crop` choice
# always crops; other spaces do not); the cnn space's CNN with no augmentation, its default.
RESNET = {"arch": "small_resnet", "block": "basic", "stages": [1, 1, 1], "width": 24, "stem_pool": 2}
NETWORKS: dict[str, tuple[dict[str, Any], str]] = {
    "auto 24x1 flip+crop": (RESNET, "flip+crop"),
    "auto 24x1 flip": (RESNET, "flip"),
    "auto 32x1 flip+crop": ({**RESNET, "width": 32}, "flip+crop"),
    "auto 32x2 flip+crop": ({**RESNET, "width": 32, "stages": [2, 2, 2]}, "flip+crop"),
    "auto 32x1 unpooled flip+crop": ({**RESNET, "width": 32, "stem_pool": 1}, "flip+crop"),
    "cnn 2x16 none": ({"arch": "cnn", "n_layers": 2, "kernel": 3, "channels": 16, "head": "flatten"}, "none"),
}
QUICK = ("auto 24x1 flip+crop", "cnn 2x16 none")
GOAL = "<= 0.9"


def main() -> None:
    args = epoch_parser(__doc__.splitlines()[0]).parse_args()
    from hpo.training import TrainConfig
    from hpo.training.loop import _train_epoch, init_state

    setup = epoch_setup(args, repeats=5, val_subset=256)
    device, splits, recipe, repeats, threads = setup.device, setup.splits, setup.recipe, setup.repeats, setup.threads

    results: dict[str, Any] = {**environment(), "device": str(device), "threads": threads,
                               "images_per_epoch": len(splits.train), "repeats": repeats}
    ratios: list[tuple[str, float, str | None]] = []
    for name in QUICK if args.quick else NETWORKS:
        model, augment = NETWORKS[name]
        config: TrainConfig = recipe.replace(model=model, augment=augment, precision="fp32")
        states = {layout: layout_state(init_state(config, splits, device), layout) for layout in ("contiguous", "channels_last")}
        cpu: dict[str, list[float]] = {layout: [] for layout in states}

        def epoch(layout: str, states: dict = states, config: TrainConfig = config,
                  cpu: dict[str, list[float]] = cpu) -> float:
            wall, used = time.perf_counter(), time.process_time()
            _train_epoch(states[layout], config, splits.train, create_graph=False)
            if device.type == "cuda":
                torch.cuda.synchronize()
            cpu[layout].append(time.process_time() - used)
            return time.perf_counter() - wall

        for layout in states:  # warm-up: oneDNN primitives, allocator
            epoch(layout)
            cpu[layout].clear()
        wall = interleaved({layout: (lambda layout=layout: epoch(layout)) for layout in states}, repeats)
        cpu_median = {layout: sorted(values)[len(values) // 2] for layout, values in cpu.items()}
        for layout in states:
            results[f"{name} {layout} s_per_epoch"] = round(wall[layout], 3)
            results[f"{name} {layout} cpu_s_per_epoch"] = round(cpu_median[layout], 3)
        goal = None if "crop" in augment else GOAL
        ratios.append((f"epoch wall channels_last/contiguous [{name}]", wall["channels_last"] / wall["contiguous"], goal))
        ratios.append((f"epoch CPU channels_last/contiguous [{name}]", cpu_median["channels_last"] / cpu_median["contiguous"], None))
    report(results, ratios, args.json)


def layout_state(state: Any, layout: str) -> Any:
    """``state`` with its model and batches in ``layout`` (its weights unchanged)."""
    channels_last = layout == "channels_last"
    state.model.to(memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    state.precision = dataclasses.replace(state.precision, channels_last=channels_last)
    return state


if __name__ == "__main__":
    main()
