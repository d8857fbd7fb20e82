"""Benchmark 9: a training epoch on the CPU in bf16 autocast against fp32.

hpo.training.precision trains in bf16 autocast on a CPU that computes bf16 in hardware (Intel
AMX tiles, or AVX-512 BF16 dot products as on AMD Zen 4) and in fp32 elsewhere, where oneDNN
would emulate bf16 (on a CPU with them, ONEDNN_MAX_CPU_ISA=AVX2 shows what one without would
do). This measures the choice on the machine at hand: one epoch of hpo's own epoch function
(augmentation, forward, backward, step) over real Fashion-MNIST, for the `auto` space's warm
start at the sizes its final run grows through (width 24, 48 and 64, one block per stage).

The two precisions alternate epoch by epoch (benchmarks.common.interleaved); each keeps its own
model, built from the same seed. Threads are the worker's (HPO_NUM_THREADS, else every core).
It also prints the validation accuracy each precision's model reaches after its epochs, as a
first check that bf16 trains at all; whether it trains as well over a whole final run is
benchmark 6's question.

    python benchmarks/cpu_precision.py [--quick] [--json docs/benchmark-results/cpu_precision.json]
    python benchmarks/cpu_precision.py --widths 48 --images 54000 --repeats 8 --val-images 6000  # accuracy

The second trains each precision's model over the whole training split for 9 epochs, its
one-cycle schedule annealed over them: a short but complete training, whose accuracies on the
whole validation split compare the two precisions more closely than 5 epochs of 8,192 images.

Prints RATIO lines bf16 / fp32 of the median wall time of an epoch per width (goal <= 0.8: at
least 20 % faster, for bf16 to be worth its rounding on this CPU).
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import environment, epoch_parser, epoch_setup, interleaved, report  # noqa: E402

WIDTHS = (24, 48, 64)
QUICK = (24,)
PRECISIONS = ("fp32", "bf16")
GOAL = "<= 0.8"
BF16_FLAGS = {"amx_bf16", "amx_tile", "avx512_bf16"}  # what oneDNN can use for bf16, recorded


def main() -> None:
    parser = epoch_parser(__doc__.splitlines()[0])
    parser.add_argument("--widths", default=None, help="comma-separated widths (default 24,48,64; --quick: 24)")
    parser.add_argument("--val-images", type=int, default=2_000, help="validation images the accuracies are read on")
    args = parser.parse_args()
    from hpo.devices import cpu_flags
    from hpo.training import TrainConfig
    from hpo.training.loop import _train_epoch, evaluate, init_state

    setup = epoch_setup(args, repeats=4, val_subset=args.val_images)
    device, splits, recipe, repeats = setup.device, setup.splits, setup.recipe, setup.repeats
    results: dict[str, Any] = {**environment(), "cpu_flags": sorted(cpu_flags() & BF16_FLAGS), "device": str(device), "threads": setup.threads,
                               "images_per_epoch": len(splits.train), "repeats": repeats}
    ratios: list[tuple[str, float, str | None]] = []
    widths = [int(w) for w in args.widths.split(",")] if args.widths else QUICK if args.quick else WIDTHS
    for width in widths:
        config: TrainConfig = recipe.replace(model={**recipe.model, "width": width})
        states = {p: init_state(config.replace(precision=p), splits, device) for p in PRECISIONS}

        def epoch(name: str, states: dict = states, config: TrainConfig = config) -> float:
            start = time.perf_counter()
            _train_epoch(states[name], config, splits.train, create_graph=False)
            return time.perf_counter() - start

        for name in PRECISIONS:  # warm-up: oneDNN primitives, allocator
            epoch(name)
        wall = interleaved({name: (lambda name=name: epoch(name)) for name in PRECISIONS}, repeats)
        for name, state in states.items():
            results[f"width {width} {name} s_per_epoch"] = round(wall[name], 3)
            accuracy = evaluate(state.model, splits.val, state.precision)["accuracy"]
            results[f"width {width} {name} val_accuracy"] = round(float(accuracy or 0.0), 4)
        ratios.append((f"epoch wall bf16/fp32 [auto width {width}]", wall["bf16"] / wall["fp32"], GOAL))
    report(results, ratios, args.json)


if __name__ == "__main__":
    main()
