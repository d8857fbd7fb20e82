"""Final-run size (issue 25): time left x width -> test accuracy, the table behind MIN_EPOCHS.

The final run of a time budget may grow the chosen network (hpo.spaces.sizing): it trains the
largest size whose measured pace still fits ``MIN_EPOCHS`` epochs in the time left. Whether
that minimum is right is an empirical question: given T minutes on this machine, is a wider
network trained fewer epochs better than a narrower one trained more? This script answers it
for the ``auto`` space's warm start (the CPU profile's defaults, width and blocks per stage
overridden, and its stem's pooling with ``--stem-pool``, one JSON per value), one cell of the
grid T x width (x blocks) at a time:

- trained on Fashion-MNIST's training split less the validation split `hpo study create`
  uses (val_fraction 0.1, seed 0), with ``train(..., budget=TimeBudget.lasting(T))``, the
  final run's own clock-driven schedule, on all cores (``--threads``);
- tested ONCE on the test split afterwards (hpo.export.retrain.score_on_test).

Per cell it records the epochs trained, the pace probe's predicted seconds per epoch
(hpo.training.pace, as the worker measures it) against the measured one, validation and test
accuracy and wall time. Per T it prints the size ``choose_size`` would pick with MIN_EPOCHS and
the measured paces, the most accurate size measured, and the range of E_min for which the rule
would have picked that one.

A cell of T = 60 min is a session's worth of quiet machine, so the grid is spread over
sessions: ``--only T:W``, ``--cells N`` and ``--resume`` (skip the cells the JSON has)::

    nice -n 10 python benchmarks/final_size.py --minutes 10 --resume   # one T per session
    python benchmarks/final_size.py --minutes 0.05 --widths 16,24 --train-subset 600 --val-subset 200 \\
        --out /tmp/fs.json                                             # a smoke run of seconds
"""

from __future__ import annotations

import argparse
import datetime
import json
import math
import os
import statistics
import sys
import time
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, environment, git_state  # noqa: E402
from hpo.spaces.sizing import MIN_EPOCHS, SizeKnob, choose_size  # noqa: E402
from hpo.training.augment import AUGMENTATIONS  # noqa: E402

DATASET = "fashion-mnist"
VAL_FRACTION, SEED = 0.1, 0  # `hpo study create`'s defaults: the validation split every study sees

Size = tuple[int, int]  # (width, blocks per stage)


@dataclass
class Cell:
    minutes: float
    width: int
    blocks: int
    epochs: int = 0  # epochs trained; the last one stops where the budget does
    predicted_seconds_per_epoch: float = 0.0  # hpo.training.pace's probe, just before training
    measured_seconds_per_epoch: float | None = None  # mean of the full epochs; None after one epoch
    epoch_seconds: list[float] = field(default_factory=list)  # each epoch with its validation pass
    val_accuracy: float | None = None
    test_accuracy: float | None = None
    # The same model scored on each image and its mirror image (logits summed): flip test-time
    # augmentation, measured beside the plain score since 2026-12-07; None before.
    val_accuracy_flip: float | None = None
    test_accuracy_flip: float | None = None
    wall_seconds: float = 0.0  # the training run, budget start to return
    # The conditions it ran in: cells of one grid come from different sessions.
    threads: int = 0
    nice: int = 0
    load_start: list[float] = field(default_factory=list)  # os.getloadavg(): 1, 5, 15 min
    load_end: list[float] = field(default_factory=list)
    commit: str | None = None
    dirty: bool | None = None
    finished_at: str = ""
    environment: dict[str, Any] = field(default_factory=dict)  # benchmarks.common.environment(); {} before 2026-12-06

    @property
    def size(self) -> Size:
        return (self.width, self.blocks)


# --- the rule, applied to a measured table (pure) --------------------------------------------

def rule_climb(seconds_left: float, paces: Mapping[Size, float], min_epochs: int) -> tuple[Size, list[Size]]:
    """The size ``choose_size`` trains with these paces, grown from the smallest size measured
    (width first, then blocks, as the auto space's SIZE_KNOBS climb, along the measured
    values), and the sizes the climb asked for that were not measured.

    A size not measured counts as one that does not fit, so the pick is the rule's among the
    measured sizes; the list says where measuring more could change it.
    """
    widths, blocks = sorted({w for w, _ in paces}), sorted({b for _, b in paces})
    knobs = (SizeKnob("width", tuple(widths)), SizeKnob("blocks", tuple(blocks), absent=1))
    missing: list[Size] = []

    def pace(params: dict[str, Any]) -> float:
        size = (params["width"], params["blocks"])
        if size not in paces:
            missing.append(size)
            return sys.float_info.max  # too slow for any E_min: this knob climbs no further
        return paces[size]

    choice = choose_size({"width": widths[0], "blocks": blocks[0]}, knobs, pace, seconds_left, min_epochs)
    return (choice.params["width"], choice.params["blocks"]), missing


def rule_pick(seconds_left: float, paces: Mapping[Size, float], min_epochs: int) -> Size:
    """The size the rule trains among the measured ones (:func:`rule_climb`)."""
    return rule_climb(seconds_left, paces, min_epochs)[0]


def min_epochs_range(seconds_left: float, paces: Mapping[Size, float],
                     accuracies: Mapping[Size, float]) -> tuple[int, int | None] | None:
    """The E_min values for which the rule picks the most accurate size of ``accuracies``:
    (smallest, largest), largest None when every larger E_min picks it too; None if none does.

    The pick shrinks as E_min grows, so the values form one interval. Past ``seconds_left``
    over the fastest pace nothing grows: the pick is the smallest size from there on.
    """
    best = max(accuracies, key=lambda size: accuracies[size])
    ceiling = math.ceil(seconds_left / min(paces.values())) + 1
    hits = [e for e in range(1, ceiling + 1) if rule_pick(seconds_left, paces, e) == best]
    if not hits:
        return None
    return hits[0], (None if hits[-1] == ceiling else hits[-1])


def paces_by_size(cells: list[Cell], measured: bool = True) -> dict[Size, float]:
    """Each size's seconds per epoch, the median over its cells (a size's pace does not depend
    on T, so every row's rule sees every measured size)."""
    found: dict[Size, list[float]] = {}
    for c in cells:
        pace = c.measured_seconds_per_epoch if measured else c.predicted_seconds_per_epoch
        if pace:
            found.setdefault(c.size, []).append(pace)
    return {size: statistics.median(values) for size, values in found.items()}


def rows(cells: list[Cell], min_epochs: int = MIN_EPOCHS) -> list[dict[str, Any]]:
    """Per T: the rule's pick (measured and probed paces), the best size measured, the E_min range.

    A size that never trained a full epoch (one epoch cut by the clock) has no measured pace:
    its probe's stands in, so the rule does not skip it.
    """
    probed = paces_by_size(cells, measured=False)
    measured = {**probed, **paces_by_size(cells)}
    out = []
    for minutes in sorted({c.minutes for c in cells}):
        row = {c.size: c for c in cells if c.minutes == minutes and c.test_accuracy is not None}
        if not row:
            continue
        accuracies = {size: float(c.test_accuracy or 0.0) for size, c in row.items()}
        best = max(accuracies, key=lambda size: accuracies[size])
        pick, missing = rule_climb(minutes * 60, measured, min_epochs) if measured else (None, [])
        span = min_epochs_range(minutes * 60, measured, accuracies) if measured else None
        out.append({"minutes": minutes, "complete": set(row) >= set(measured),
                    "rule_pick": pick, "rule_pick_test": accuracies.get(pick) if pick else None,
                    "rule_unmeasured": missing,
                    "rule_pick_probe": rule_pick(minutes * 60, probed, min_epochs) if probed else None,
                    "best": best, "best_test": accuracies[best], "min_epochs_range": span})
    return out


def consistent_range(spans: list[tuple[int, int | None] | None]) -> tuple[int, int | None] | None:
    """The E_min values inside every row's range (None: there are none)."""
    if not spans or any(span is None for span in spans):
        return None
    low = max(span[0] for span in spans if span)
    highs = [span[1] for span in spans if span and span[1] is not None]
    high = min(highs) if highs else None
    return None if high is not None and high < low else (low, high)


def row_line(row: dict[str, Any], min_epochs: int = MIN_EPOCHS) -> str:
    def name(size: Size | None) -> str:
        return "-" if size is None else f"W{size[0]}x{size[1]}"

    gap = (f", {100 * (row['best_test'] - row['rule_pick_test']):.2f} points above the rule's"
           if row["rule_pick_test"] is not None else "")
    span = row["min_epochs_range"]
    which = ("no E_min picks it (the rule's climb does not end there)" if span is None else
             f"E_min {span[0]}..{'any larger' if span[1] is None else span[1]} would pick it")
    unmeasured = row.get("rule_unmeasured") or []
    needs = f", had {', '.join(map(name, unmeasured))} not measured" if unmeasured else ""
    return (f"T = {row['minutes']:g} min{'' if row['complete'] else ' (row incomplete)'}: rule (E_min {min_epochs}) "
            f"picks {name(row['rule_pick'])}{needs} (test {_fmt(row['rule_pick_test'])}; with the probe's paces "
            f"{name(row['rule_pick_probe'])}); best measured {name(row['best'])} (test {_fmt(row['best_test'])}{gap}); "
            f"{which}")


def span_line(table: list[dict[str, Any]]) -> str:
    span = consistent_range([row["min_epochs_range"] for row in table])
    if span is None:
        return f"no one E_min picks the best size measured at every T (MIN_EPOCHS is {MIN_EPOCHS})"
    return (f"E_min {span[0]}..{'any larger' if span[1] is None else span[1]} picks the best size measured at every T "
            f"(MIN_EPOCHS is {MIN_EPOCHS})")


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.4f}"


# --- one cell ---------------------------------------------------------------------------------

class EpochClock:
    """A training callback that notes when each epoch (with its validation pass) ends."""

    def __init__(self) -> None:
        self.marks = [time.perf_counter()]

    def on_epoch_end(self, state: Any, metrics: Any) -> None:
        self.marks.append(time.perf_counter())


def flip_accuracy(model: Any, split: Any) -> float:
    """Accuracy of the logits of each image plus those of its mirror image (flip test-time augmentation)."""
    from hpo.training.loop import predict_logits

    logits = predict_logits(model, split.x) + predict_logits(model, split.x.flip(3))
    return float((logits.argmax(1) == split.y).float().mean())


def run_cell(cell: Cell, images: Any, args: argparse.Namespace) -> Cell:
    """Train the warm start at the cell's size for its T on the clock, then test it once."""
    from hpo import data
    from hpo.data.splits import test_split
    from hpo.export.retrain import Retrained, score_on_test
    from hpo.training import train
    from hpo.training.budget import TimeBudget
    from hpo.training.pace import seconds_per_epoch
    from search_spaces import auto

    cell.load_start, cell.nice, cell.threads = list(os.getloadavg()), os.nice(0), args.threads
    cell.environment = environment()
    splits = data.make_splits(images, val_fraction=VAL_FRACTION, seed=SEED, train_subset=args.train_subset,
                              val_subset=args.val_subset)
    params = {**auto.defaults(auto.CPU), "width": cell.width, "blocks": cell.blocks, "stem_pool": args.stem_pool}
    if args.augment:
        params["augment"] = args.augment
    seconds = cell.minutes * 60
    cell.predicted_seconds_per_epoch = seconds_per_epoch(auto.build(params, 1), splits)
    # As the worker does: the epochs only place a combination's optimizer phases; the clock ends the run.
    config = auto.build(params, max(1, int(seconds // cell.predicted_seconds_per_epoch)))
    clock = EpochClock()
    result = train(config, splits, budget=TimeBudget.lasting(seconds), callbacks=[clock])
    cell.wall_seconds = time.perf_counter() - clock.marks[0]
    cell.epoch_seconds = [round(b - a, 3) for a, b in zip(clock.marks, clock.marks[1:])]
    cell.epochs = len(result.history)
    full = cell.epoch_seconds[:-1]  # the last epoch is cut where the budget ends
    cell.measured_seconds_per_epoch = statistics.mean(full) if full else None
    cell.val_accuracy = result.metrics.get("val_accuracy")
    cell.test_accuracy = score_on_test(Retrained(config, splits, result, images))["accuracy"]
    cell.val_accuracy_flip = flip_accuracy(result.model, splits.val)
    cell.test_accuracy_flip = flip_accuracy(result.model, test_split(images, splits.normalization, splits.val.x.device))
    cell.load_end = list(os.getloadavg())
    cell.finished_at = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
    return cell


def warm_up(images: Any, args: argparse.Namespace) -> None:
    """One probe, thrown away: the first training in a process pays one-time costs (measured
    here: a cold probe read ~50 % slower than the next), which would bias the first cell's."""
    from hpo import data
    from hpo.training.pace import seconds_per_epoch
    from search_spaces import auto

    splits = data.make_splits(images, val_fraction=VAL_FRACTION, seed=SEED, train_subset=args.train_subset,
                              val_subset=args.val_subset)
    seconds_per_epoch(auto.build(auto.defaults(auto.CPU), 1), splits)


# --- the grid, the JSON, the PNG ---------------------------------------------------------------

def settings(args: argparse.Namespace) -> dict[str, Any]:
    """What makes cells comparable: a resumed grid must have the same."""
    return {"dataset": DATASET, "val_fraction": VAL_FRACTION, "seed": SEED, "train_subset": args.train_subset,
            "val_subset": args.val_subset, "recipe": "search_spaces/auto.py defaults(CPU), width and blocks set",
            "stem_pool": args.stem_pool, **({"augment": args.augment} if args.augment else {})}


def load_cells(path: Path, args: argparse.Namespace) -> list[Cell]:
    if not path.exists():
        return []
    if not args.resume:
        raise SystemExit(f"{path} exists: pass --resume to add cells to it, or --out elsewhere")
    saved = json.loads(path.read_text())
    if saved["settings"] != settings(args):
        raise SystemExit(f"{path} was measured with {saved['settings']}, not {settings(args)}: cannot resume it")
    return [Cell(**c) for c in saved["cells"]]


def save(path: Path, args: argparse.Namespace, cells: list[Cell]) -> list[dict[str, Any]]:
    table = rows(cells)
    payload = {"benchmark": "final_size", "settings": settings(args), "min_epochs": MIN_EPOCHS,
               "cells": [asdict(c) for c in sorted(cells, key=lambda c: (c.minutes, c.size))],
               "rows": table, "min_epochs_consistent": consistent_range([r["min_epochs_range"] for r in table]),
               "summary": [*(row_line(r) for r in table), span_line(table)], "argv": sys.argv}
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, indent=1))
    return table


def save_png(path: Path, cells: list[Cell]) -> bool:
    try:
        import matplotlib
    except ImportError:  # hpo's report extra is not installed
        return False
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for minutes, blocks in sorted({(c.minutes, c.blocks) for c in cells}):
        line = sorted((c.width, c.test_accuracy, c.epochs) for c in cells
                      if (c.minutes, c.blocks) == (minutes, blocks) and c.test_accuracy is not None)
        if not line:
            continue
        ax.plot([w for w, _, _ in line], [a for _, a, _ in line], marker="o", label=f"T = {minutes:g} min, {blocks} block(s)")
        for w, a, e in line:
            ax.annotate(f"{e} ep", (w, a), fontsize=7, textcoords="offset points", xytext=(3, 3))
    ax.set_xlabel("width (first stage's planes)")
    ax.set_ylabel("test accuracy")
    ax.set_title(f"Fashion-MNIST, the auto warm start trained for T on the clock (MIN_EPOCHS = {MIN_EPOCHS})", fontsize=9)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return True


def numbers(text: str, kind: type) -> list[Any]:
    return [kind(v) for v in text.split(",") if v.strip()]


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from hpo.devices import available_cores

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", default="10,30,60", help="times left T, minutes, comma-separated (default 10,30,60)")
    p.add_argument("--widths", default="24,32,48,64", help="first-stage widths (default 24,32,48,64)")
    p.add_argument("--blocks", default="1", help="basic blocks per stage (default 1)")
    # The CPU profile halves the image after the stem (14x14 maps); the GPU profile and the
    # issue's 94.66 % reference model keep 28x28, for about 4x the compute per epoch.
    p.add_argument("--stem-pool", type=int, choices=(1, 2), default=2,
                   help="2: halve the image after the stem (the CPU profile's warm start); 1: keep it (default 2)")
    p.add_argument("--augment", default=None, choices=sorted(AUGMENTATIONS),
                   help="train with this augmentation instead of the warm start's (one JSON per value)")
    p.add_argument("--only", default=None, help="just these cells, T:W or T:W:B, comma-separated (e.g. 60:48,60:64)")
    p.add_argument("--cells", type=int, default=None, help="run at most this many of the cells still to do")
    p.add_argument("--resume", action="store_true", help="add to --out, skipping the cells it has")
    p.add_argument("--threads", type=int, default=available_cores(), help="torch threads (default: the cores available)")
    p.add_argument("--train-subset", type=int, default=None, help="training images (default all; for smoke tests)")
    p.add_argument("--val-subset", type=int, default=None, help="validation images (default all; for smoke tests)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmark-results" / "final_size.json",
                   help="the JSON; the PNG goes beside it with the suffix .png")
    args = p.parse_args(argv)
    blocks = numbers(args.blocks, int)
    if args.only:
        parts = [spec.split(":") for spec in args.only.split(",") if spec.strip()]
        if any(len(part) not in (2, 3) for part in parts):
            p.error(f"--only is {args.only!r}, but each cell must be T:W or T:W:B")
        args.grid = [(float(t), int(w), int(rest[0]) if rest else blocks[0]) for t, w, *rest in parts]
    else:
        args.grid = [(t, w, b) for t in numbers(args.minutes, float) for b in blocks for w in numbers(args.widths, int)]
    if not args.grid or any(t <= 0 or w < 1 or b < 1 for t, w, b in args.grid):
        p.error("every T must be positive, every width and blocks value at least 1")
    if args.threads < 1:
        p.error(f"--threads is {args.threads}, but must be at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    import torch

    from hpo import data

    torch.set_num_threads(args.threads)
    cells = load_cells(args.out, args)
    done = {(c.minutes, c.width, c.blocks) for c in cells}
    todo = [key for key in args.grid if key not in done][: args.cells]
    print(f"final size: {len(todo)} cell(s) to run ({len(done)} in {args.out}), {args.threads} thread(s), "
          f"nice {os.nice(0)}, about {sum(t for t, _, _ in todo):g} min of training", flush=True)
    images = data.load(DATASET) if todo else None
    if todo:
        warm_up(images, args)
    git = git_state(args.out)
    commit, dirty = git["commit"], git["dirty"]
    for minutes, width, blocks in todo:
        cell = run_cell(Cell(minutes, width, blocks, commit=commit, dirty=dirty), images, args)
        print(f"  T = {minutes:g} min, W{width}x{blocks}: {cell.epochs} epochs (probe {cell.predicted_seconds_per_epoch:.1f} "
              f"s/epoch, measured {cell.measured_seconds_per_epoch or 0:.1f}), val {_fmt(cell.val_accuracy)}, "
              f"test {_fmt(cell.test_accuracy)} (flip TTA: val {_fmt(cell.val_accuracy_flip)}, test "
              f"{_fmt(cell.test_accuracy_flip)}), {cell.wall_seconds:.0f} s", flush=True)
        cells.append(cell)
        save(args.out, args, cells)  # after every cell: a stopped session keeps what it measured
    table = save(args.out, args, cells)
    print("\n".join([*(row_line(r) for r in table), span_line(table)]))
    png = args.out.with_suffix(".png")
    if cells and save_png(png, cells):
        print(f"wrote {args.out} and {png}")
    else:
        print(f"wrote {args.out}" + (" (no PNG: matplotlib is not installed)" if cells else ""))


if __name__ == "__main__":
    main()
