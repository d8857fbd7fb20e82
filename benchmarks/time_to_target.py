"""Benchmark 5: wall time to a target validation accuracy on Fashion-MNIST, `cnn` space, 2 workers.

Each approach is a fresh hpo study worked by 2 real `hpo worker` processes:

- default: `hpo study create --space cnn --dataset fashion-mnist` and nothing else, i.e. the
  service's defaults (today TPE + ASHA, the space's default epochs, warm start from the
  space's defaults);
- default-cold: the same without the warm start (`--no-warm-start`), to show its share;
- report004: report 004's approach, plain TPE, no pruning, 3 epochs per trial, no warm start;
- random: random search, no pruning, 3 epochs per trial, no warm start.

The clock starts when the workers are started (so their start-up counts for everyone) and stops
at the first REPORTED epoch (any trial, running or finished) whose validation accuracy reaches
the target: the moment a model that good exists. It is polled every second. The workers are
then killed and the next approach starts, so each runs alone. The order of the approaches
rotates over --repeats. An approach that misses the target within --max-minutes is reported
as "> cap", and a ratio over it is a lower bound (">= x").

    python benchmarks/time_to_target.py --max-minutes 10    # the issue's setting: 90 %, all data
    python benchmarks/time_to_target.py --quick              # 2,000 images, 80 %, 3 minutes per run
    python benchmarks/time_to_target.py --approaches default,report004 --repeats 2

Prints RATIO time report004/default (goal >= 10, never < 5), and the others over default.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import TempDatabase, parser  # noqa: E402

HPO = [sys.executable, "-m", "hpo"]
NO_PRUNING_3_EPOCHS = ["--pruner", "none", "--epochs", "3", "--no-warm-start"]
APPROACHES: dict[str, list[str]] = {
    "default": [],  # whatever `hpo study create` defaults to
    "default-cold": ["--no-warm-start"],
    "report004": ["--sampler", "tpe", *NO_PRUNING_3_EPOCHS],
    "random": ["--sampler", "random", *NO_PRUNING_3_EPOCHS],
}
GOALS = {"report004": ">= 10"}  # the goal
FLOOR = 5.0  # ... and never below this
POLL_SECONDS = 1.0


@dataclass
class Run:
    """One approach's run: when (and by which trial and epoch) the target was first reported."""

    approach: str
    repeat: int
    seconds: float | None = None  # None: not reached within the cap
    trial: int | None = None
    epoch: int | None = None
    value: float | None = None
    params: dict[str, Any] = field(default_factory=dict)
    trials_started: int = 0
    trials_finished: int = 0  # complete or pruned
    trial0_curve: list[float] = field(default_factory=list)  # trial 0's reported values, by epoch
    load: tuple[float, float] = (0.0, 0.0)  # 1-minute load average at start and end

    def text(self, cap: float) -> str:
        count = f"{self.trials_finished} trials finished, {self.trials_started} started"
        if self.seconds is None:
            return f"> {cap:.0f} s (not reached; {count})"
        return f"{self.seconds:.0f} s (trial {self.trial}, epoch {self.epoch}: {self.value:.4f}; {count})"


def create_command(name: str, approach: str, args: argparse.Namespace) -> list[str]:
    options = list(APPROACHES[approach])
    if args.epochs is not None:  # one epoch count for every approach (the test's shrunk run)
        if "--epochs" in options:
            at = options.index("--epochs")
            del options[at:at + 2]
        options += ["--epochs", str(args.epochs)]
    command = [*HPO, "study", "create", name, "--space", "cnn", "--dataset", "fashion-mnist",
               "--trials", str(args.trials), "--seed", str(args.seed), *options]
    if args.train_subset:
        command += ["--train-subset", str(args.train_subset)]
    return command


def first_hit(storage: Any, study_id: int, target: float) -> tuple[int, int, float, dict[str, Any]] | None:
    """(trial number, epoch, value, params) of the earliest reported epoch >= target, if any."""
    from optuna.trial import TrialState

    hits = [(t.number, step, value, t.params)
            for t in storage.get_all_trials(study_id, deepcopy=False,
                                            states=(TrialState.RUNNING, TrialState.COMPLETE, TrialState.PRUNED))
            for step, value in t.intermediate_values.items() if value >= target]
    return min(hits, key=lambda h: (h[1], h[0])) if hits else None


def stop(procs: list[subprocess.Popen]) -> None:
    """Kill the workers at once: the study is over, and the next approach needs idle cores."""
    for proc in procs:
        if proc.poll() is None:
            proc.kill()
    for proc in procs:
        proc.wait()


def run(url: str, approach: str, repeat: int, args: argparse.Namespace, folder: Path) -> Run:
    import optuna
    from optuna.trial import TrialState

    result = Run(approach, repeat)
    name = f"ttt-{approach}-r{repeat}"
    env = {**os.environ, "HPO_STORAGE": url, "HPO_ARTIFACTS": str(folder / "artifacts"),
           "HPO_WORKERS_PER_HOST": str(args.workers), "PYTHONWARNINGS": "ignore"}
    env.pop("HPO_NUM_THREADS", None)  # each worker takes its share of the cores
    subprocess.run(create_command(name, approach, args), env=env, check=True, capture_output=True, cwd=folder)
    storage = optuna.storages.RDBStorage(url)
    study_id = storage.get_study_id_from_name(name)
    load_start = os.getloadavg()[0]
    start = time.monotonic()
    logs = [folder / f"{name}-worker{i}.log" for i in range(args.workers)]
    procs = []
    for log in logs:
        with log.open("w") as stderr:  # the child keeps its own copy of the descriptor
            procs.append(subprocess.Popen([*HPO, "worker", name, "--device", args.device], env=env, cwd=folder,
                                          stdout=subprocess.DEVNULL, stderr=stderr))
    try:
        while True:
            hit = first_hit(storage, study_id, args.target)
            elapsed = time.monotonic() - start
            if hit is not None:
                result.seconds = elapsed
                result.trial, result.epoch, result.value, result.params = hit
                break
            if elapsed > args.max_minutes * 60:
                break
            if all(p.poll() is not None for p in procs):  # budget used up, or the workers failed
                if any(p.returncode for p in procs):
                    print(f"  {approach}: workers exited with {[p.returncode for p in procs]}:\n"
                          + logs[0].read_text()[-2000:], file=sys.stderr)
                break
            time.sleep(POLL_SECONDS)
    finally:
        stop(procs)
    result.load = (load_start, os.getloadavg()[0])
    trials = storage.get_all_trials(study_id, deepcopy=False)
    result.trials_started = sum(1 for t in trials if t.state != TrialState.WAITING)
    result.trials_finished = sum(1 for t in trials if t.state in (TrialState.COMPLETE, TrialState.PRUNED))
    first = next(t for t in trials if t.number == 0)
    result.trial0_curve = [first.intermediate_values[s] for s in sorted(first.intermediate_values)]
    storage.remove_session()
    return result


def summarize(runs: list[Run], cap: float) -> dict[str, Any]:
    """Median seconds per approach (a capped run counts as the cap), and whether that is a bound."""
    out: dict[str, Any] = {}
    for approach in dict.fromkeys(r.approach for r in runs):
        mine = [r for r in runs if r.approach == approach]
        median = statistics.median(cap if r.seconds is None else r.seconds for r in mine)
        # A median at the cap is only a lower bound of the true time.
        out[approach] = {"seconds": median, "lower_bound": median >= cap}
    return out


def ratio_lines(times: dict[str, Any]) -> tuple[list[str], dict[str, float], dict[str, str]]:
    """``RATIO time X/default = [>=|<=] v`` per approach X; the values and their bound kinds."""
    lines, values, bounds = [], {}, {}
    if "default" not in times:
        return lines, values, bounds
    base = times["default"]
    for approach, t in times.items():
        if approach == "default":
            continue
        name = f"time {approach}/default"
        value = t["seconds"] / base["seconds"]
        kind = bound_kind(t["lower_bound"], base["lower_bound"])
        text = f"RATIO {name} = {'' if kind == '=' else kind + ' '}{value:.3f}"
        goal = GOALS.get(approach)
        if goal:
            # The median's goal only; "never < FLOOR" is judged per repeat (per_repeat_line).
            text += f" (goal {goal}: {verdict(value, kind, float(goal.split()[1]))})"
        lines.append(text)
        values[name], bounds[name] = value, kind
    return lines, values, bounds


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--target", type=float, default=None, help="validation accuracy (default 0.90; 0.80 with --quick)")
    p.add_argument("--train-subset", type=int, default=None, help="training images (default all; 2000 with --quick)")
    p.add_argument("--epochs", type=int, default=None, help="epochs per trial for EVERY approach (default: each its own)")
    p.add_argument("--trials", type=int, default=100, help="budget of each study")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--max-minutes", type=float, default=None, help="cap per run (default 60; 3 with --quick)")
    p.add_argument("--approaches", default="default,default-cold,report004,random",
                   help=f"comma-separated, from: {', '.join(APPROACHES)}")
    p.add_argument("--repeats", type=int, default=1, help="runs per approach, the order rotated each repeat")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.target = args.target or (0.80 if args.quick else 0.90)
    args.train_subset = args.train_subset or (2_000 if args.quick else None)
    args.max_minutes = args.max_minutes or (3.0 if args.quick else 60.0)
    approaches = [a.strip() for a in args.approaches.split(",") if a.strip()]
    unknown = [a for a in approaches if a not in APPROACHES]
    if unknown:
        p.error(f"unknown approach(es) {', '.join(unknown)}; choose from {', '.join(APPROACHES)}")
    cap = args.max_minutes * 60

    runs: list[Run] = []
    with TempDatabase() as url, tempfile.TemporaryDirectory(prefix="hpo-bench-ttt-") as tmp:
        for repeat in range(args.repeats):
            shift = repeat % len(approaches)
            for approach in approaches[shift:] + approaches[:shift]:
                runs.append(run(url, approach, repeat, args, Path(tmp)))
                print(f"  {approach} (repeat {repeat + 1}): {runs[-1].text(cap)}", flush=True)
                save(args, runs, cap)  # after every run: a long benchmark stopped early keeps its runs
    times = save(args, runs, cap)
    for approach, t in times.items():
        print(f"  {approach}: median {'> ' if t['lower_bound'] else ''}{t['seconds']:.0f} s")
    print("\n".join(ratio_lines(times)[0]), flush=True)
    print(per_repeat_line(runs, cap), flush=True)


def verdict(value: float, kind: str, bound: float) -> str:
    """Whether a ratio of kind "=", ">=" (baseline capped), "<=" (default capped) or "unknown" is >= bound."""
    if kind in ("=", ">=") and value >= bound:
        return "met"
    if kind in ("=", "<=") and value < bound:
        return "missed"
    return "undecided: raise --max-minutes"


def bound_kind(baseline_capped: bool, default_capped: bool) -> str:
    if baseline_capped and default_capped:
        return "unknown"  # neither reached the target
    return ">=" if baseline_capped else "<=" if default_capped else "="


def per_repeat(runs: list[Run], cap: float) -> list[tuple[float, str]]:
    """report004/default within each repeat, with its bound kind; a capped run counts as the cap."""
    out = []
    for repeat in sorted({r.repeat for r in runs}):
        pair = {r.approach: r for r in runs if r.repeat == repeat}
        if "default" in pair and "report004" in pair:
            base, other = pair["default"], pair["report004"]
            value = (cap if other.seconds is None else other.seconds) / (cap if base.seconds is None else base.seconds)
            out.append((value, bound_kind(other.seconds is None, base.seconds is None)))
    return out


def per_repeat_line(runs: list[Run], cap: float) -> str:
    """report004/default within each repeat: "never < FLOOR" is about the worst of these."""
    ratios = per_repeat(runs, cap)
    if not ratios:
        return ""
    texts = [f"{'' if kind == '=' else kind + ' '}{value:.2f}" for value, kind in ratios]
    verdicts = {verdict(value, kind, FLOOR) for value, kind in ratios}
    floor = "missed" if "missed" in verdicts else "met" if verdicts == {"met"} else "undecided: raise --max-minutes"
    return f"report004/default per repeat: {', '.join(texts)} (never < {FLOOR:g}: {floor})"


def save(args: argparse.Namespace, runs: list[Run], cap: float) -> dict[str, Any]:
    """The medians so far; written to --json with the ratios and every run."""
    times = summarize(runs, cap)
    if args.json is not None:
        _lines, values, bounds = ratio_lines(times)
        settings = {"target": args.target, "train_subset": args.train_subset or "all", "workers": args.workers,
                    "trials": args.trials, "max_minutes": args.max_minutes, "repeats": args.repeats,
                    "epochs": args.epochs or "each approach's own"}
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps({"settings": settings, "results": times, "ratios": values,
                                         "ratio_bounds": bounds, "report004_per_repeat": per_repeat(runs, cap),
                                         "runs": [asdict(r) for r in runs],
                                         "argv": sys.argv}, indent=2, default=str))
    return times


if __name__ == "__main__":
    main()
