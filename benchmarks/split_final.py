"""Split final run (issue 25): one final run on every core, or one per core side by side and averaged?

A time budget's final run trains one model on every core of the host. The other way to spend
the same cores and the same T: k runs side by side, one core each, and their averaged
probabilities as the model (an ensemble). Each member gets about 1/k of the compute, so the
size rule (hpo.spaces.sizing, MIN_EPOCHS) grows it less and it trains fewer epochs; averaging
k models that err differently buys back some or more of that. Whether it wins is measured here
before anything is built on it, in one run, arm after arm, on the whole machine:

- ``one``: the auto space's warm start, grown by the size rule from a pace probed with every
  core (``--threads``), trained for T on the clock with them, seed 0;
- ``split``: ``--members`` processes side by side, one thread each, seeds 0, 1, ...: each
  probes its own pace while the others probe theirs (as side-by-side final runs would), grows
  by the same rule, trains for T; the ensemble averages their softmax outputs.

Seeds stand in for the search's top-k configurations: different configurations would err
more differently than two seeds of one, so a gain here is a lower bound on what top-k final
runs could buy, and no gain here leaves only that difference to hope for.

Each run trains on Fashion-MNIST's training split less `hpo study create`'s validation split
(as benchmarks/final_size.py) and is tested ONCE afterwards. The verdict pairs the two arms on
the same test images (McNemar's exact test): single tests of 10,000 images cannot separate
differences of 0.3 points, paired ones often can.

    nice -n 10 python benchmarks/split_final.py --minutes 30 --workdir DIR --out docs/benchmark-results/split_final-30min.json
    python benchmarks/split_final.py --minutes 0.1 --train-subset 600 --val-subset 200 --out /tmp/sf.json  # smoke
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, correct_string, environment, git_state, paired  # noqa: E402
from benchmarks.final_size import SEED, VAL_FRACTION, EpochClock  # noqa: E402

DATASET = "fashion-mnist"


@dataclass
class Member:
    """One training run of an arm, as its process reports it."""

    seed: int
    threads: int
    width: int = 0
    blocks: int = 0
    predicted_seconds_per_epoch: float = 0.0  # the pace probe of the size trained
    epochs: int = 0
    wall_seconds: float = 0.0
    val_accuracy: float = 0.0
    test_accuracy: float = 0.0


@dataclass
class Arm:
    name: str
    members: list[Member] = field(default_factory=list)
    val_accuracy: float = 0.0  # the arm's model: the one member, or the members' averaged probabilities
    test_accuracy: float = 0.0
    load_start: list[float] = field(default_factory=list)
    load_end: list[float] = field(default_factory=list)


# --- one member, in its own process ---------------------------------------------------------------

def run_member(seed: int, threads: int, args: argparse.Namespace, out: Path) -> None:
    """Grow the warm start by the size rule for T at this process's pace, train it for T on the
    clock, and save its report and its softmax outputs on the validation and test images."""
    import torch

    from hpo import data
    from hpo.data.splits import test_split
    from hpo.spaces.sizing import MIN_EPOCHS, choose_size
    from hpo.training import train
    from hpo.training.budget import TimeBudget
    from hpo.training.loop import predict_logits
    from hpo.training.pace import seconds_per_epoch
    from search_spaces import auto

    torch.set_num_threads(threads)
    images = data.load(DATASET)
    splits = data.make_splits(images, val_fraction=VAL_FRACTION, seed=SEED, train_subset=args.train_subset,
                              val_subset=args.val_subset)
    seconds_per_epoch(auto.build(auto.defaults(auto.CPU), 1), splits)  # thrown away: a process's first probe reads slow
    seconds = args.minutes * 60
    ends = time.time() + seconds
    # As the worker's final phase does (hpo.worker.final_phase): the probes' time is the run's.
    choice = choose_size(auto.defaults(auto.CPU), auto.SIZE_KNOBS, lambda p: seconds_per_epoch(auto.build(p, 1), splits),
                         lambda: ends - time.time(), MIN_EPOCHS)
    left = max(1.0, ends - time.time())
    print(f"  seed {seed}, {threads} thread(s): width {choice.params['width']} x {choice.params.get('blocks', 1)} "
          f"block(s), {choice.seconds_per_epoch:.1f} s per epoch probed, about {int(left // choice.seconds_per_epoch)} "
          f"epochs in {left:.0f} s", flush=True)
    config = auto.build(choice.params, max(1, int(left // choice.seconds_per_epoch))).replace(seed=seed)
    clock = EpochClock()
    result = train(config, splits, budget=TimeBudget.lasting(left), callbacks=[clock])
    test = test_split(images, splits.normalization, splits.val.x.device)
    val_probs = predict_logits(result.model, splits.val.x).softmax(1)
    test_probs = predict_logits(result.model, test.x).softmax(1)
    member = Member(seed, threads, choice.params["width"], choice.params.get("blocks", 1), choice.seconds_per_epoch,
                    len(result.history), time.perf_counter() - clock.marks[0],
                    float((val_probs.argmax(1) == splits.val.y).float().mean()),
                    float((test_probs.argmax(1) == test.y).float().mean()))
    torch.save({"member": asdict(member), "val": val_probs, "test": test_probs, "val_y": splits.val.y, "test_y": test.y}, out)


# --- the arms -------------------------------------------------------------------------------------

def run_arm(name: str, seeds: list[int], threads: int, args: argparse.Namespace, workdir: Path) -> tuple[Arm, dict[str, str]]:
    """Run the arm's members side by side, each in its own process, and average their outputs;
    with the arm, which validation and test images its model (and its first member) got right."""
    import torch

    arm = Arm(name, load_start=list(os.getloadavg()))
    outs = [workdir / f"{name}-{seed}.pt" for seed in seeds]
    common = ["--minutes", str(args.minutes)] + [f"--{k}={v}" for k, v in
                                                 (("train-subset", args.train_subset), ("val-subset", args.val_subset)) if v]
    procs = [subprocess.Popen([sys.executable, __file__, "--member", str(seed), "--threads", str(threads),
                               "--member-out", str(out), *common]) for seed, out in zip(seeds, outs)]
    if any(p.wait() != 0 for p in procs):
        raise SystemExit(f"arm {name}: a member's process failed (its traceback is above)")
    saved = [torch.load(out) for out in outs]
    arm.members = [Member(**s["member"]) for s in saved]
    val = torch.stack([s["val"] for s in saved]).mean(0)
    test = torch.stack([s["test"] for s in saved]).mean(0)
    arm.val_accuracy = float((val.argmax(1) == saved[0]["val_y"]).float().mean())
    arm.test_accuracy = float((test.argmax(1) == saved[0]["test_y"]).float().mean())
    arm.load_end = list(os.getloadavg())
    # Which images the arm's model got right, for the paired verdict (benchmarks.common.paired).
    val_y, test_y = saved[0]["val_y"], saved[0]["test_y"]
    return arm, {"val": correct_string(val.argmax(1) == val_y), "test": correct_string(test.argmax(1) == test_y),
                 "member0_test": correct_string(saved[0]["test"].argmax(1) == test_y)}


def summary(arms: list[Arm], verdict: dict[str, Any]) -> list[str]:
    lines = []
    for arm in arms:
        members = "; ".join(f"seed {m.seed}: W{m.width}x{m.blocks}, {m.epochs} epochs on {m.threads} thread(s), "
                            f"val {m.val_accuracy:.4f}, test {m.test_accuracy:.4f}" for m in arm.members)
        lines.append(f"{arm.name}: val {arm.val_accuracy:.4f}, test {arm.test_accuracy:.4f} ({members})")
    t = verdict["test"]
    lines.append(f"paired on the test images, split - one = {100 * t['difference']:+.2f} points "
                 f"({t['only_second']} images only split got right, {t['only_first']} only one did; McNemar p = {t['p_value']:.3g})")
    lines.append(f"RATIO split/one test accuracy = {arms[1].test_accuracy / arms[0].test_accuracy:.4f}")
    return lines


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    from hpo.devices import available_cores

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=30.0, help="T, each arm's training time (default 30: half of W = 60)")
    p.add_argument("--members", type=int, default=available_cores(), help="runs side by side in the split arm (default: the cores)")
    p.add_argument("--threads", type=int, default=available_cores(), help="the one arm's threads (default: the cores)")
    p.add_argument("--train-subset", type=int, default=None, help="training images (default all; for smoke tests)")
    p.add_argument("--val-subset", type=int, default=None, help="validation images (default all; for smoke tests)")
    p.add_argument("--workdir", type=Path, default=None, help="where the members' outputs go (default: a temporary folder)")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmark-results" / "split_final.json")
    p.add_argument("--member", type=int, default=None, help=argparse.SUPPRESS)  # internal: run one member with this seed
    p.add_argument("--member-out", type=Path, default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.minutes <= 0 or args.members < 2 or args.threads < 1:
        p.error("--minutes must be positive, --members at least 2 and --threads at least 1")
    return args


def main(argv: list[str] | None = None) -> None:
    args = parse_args(argv)
    if args.member is not None:
        run_member(args.member, args.threads, args, args.member_out)
        return
    git = git_state(args.out)
    print(f"split final: T = {args.minutes:g} min per arm; one on {args.threads} thread(s), then {args.members} "
          f"side by side on 1 thread each; nice {os.nice(0)}", flush=True)
    with tempfile.TemporaryDirectory() as tmp:
        workdir = args.workdir or Path(tmp)
        workdir.mkdir(parents=True, exist_ok=True)
        one, one_right = run_arm("one", [0], args.threads, args, workdir)
        print(f"  one: test {one.test_accuracy:.4f}", flush=True)
        split, split_right = run_arm("split", list(range(args.members)), 1, args, workdir)
    verdict = {"val": paired(one_right["val"], split_right["val"]), "test": paired(one_right["test"], split_right["test"]),
               "test_member0": paired(one_right["test"], split_right["member0_test"])}
    lines = summary([one, split], verdict)
    payload = {"benchmark": "split_final", "settings": {"dataset": DATASET, "val_fraction": VAL_FRACTION, "seed": SEED,
                                                        "minutes": args.minutes, "members": args.members,
                                                        "threads": args.threads, "train_subset": args.train_subset,
                                                        "val_subset": args.val_subset},
               "arms": [asdict(one), asdict(split)], "paired": verdict, "summary": lines,
               "commit": git["commit"], "dirty": git["dirty"], "nice": os.nice(0), "environment": environment(),
               "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
               "argv": [a if not os.path.isabs(a) else "DIR" for a in sys.argv]}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(payload, indent=1))
    print("\n".join(lines))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
