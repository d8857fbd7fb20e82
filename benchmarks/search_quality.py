"""Benchmark 6: search quality at equal wall time: does the search beat not searching?

Four arms get the same wall time W and the same share of the cores, on all of Fashion-MNIST,
with the same validation split (seed 0). Each searches on the validation split only; its final
model, the best completed trial, is exported and tested ONCE on the test split, by the
functions behind `hpo export` and `hpo evaluate --split test`, in this process:

- a `default`: the service's default for this goal, `hpo study create --space auto
  --time-budget W --pruner promote` (TPE + the promotion scheduler, warm start, and the final
  run: when half of W is left, the best configuration is trained for the time left), one
  worker per core of the arm (one worker per GPU);
- b `fixed`: the auto space's warm-start configuration trained for as many epochs as fit in W,
  what a user does without a search. The epochs are chosen from a timed probe just before
  (a slice of an epoch with the same threads plus one validation pass, scaled to the whole
  training set, run as many times at once as arms share the machine), so that the epochs
  fill 95 % of W; the run is an hpo study of one
  trial (`--trials 1 --epochs N --pruner none --time-budget W`), so it trains, is exported and
  is tested exactly as the others;
- c `random`: random search with the same scheduler (`--sampler random --pruner promote`);
- d `report004`: report 004's approach, TPE without pruning, 3 epochs per trial and no warm
  start (`--pruner none --epochs 3 --no-warm-start`).

Arms run `--parallel` at a time, with the cores split evenly (default on 2 cores: a and b side
by side with one core each, then c and d), so the run takes about ceil(arms/parallel) x W.
Each worker runs with HPO_NUM_THREADS threads; the output states the split.

Every few seconds the best validation accuracy REPORTED so far (any trial, any epoch) is read
from each arm's study. The run prints it every --interval minutes, the times to 92 % and 93 %
validation accuracy, and each arm's test accuracy, and writes a JSON and a PNG (--out).

    python benchmarks/search_quality.py --minutes 60                  # the issue's run (2 h on 2 cores)
    python benchmarks/search_quality.py --minutes 4 --interval 1      # a short real check
    python benchmarks/search_quality.py --minutes 1 --train-subset 512 --val-subset 500 --interval 0.25

Each arm's clock starts when its workers start (their start-up counts); the study's own
time budget starts at its first claimed trial, and running trials stop at the first epoch
boundary after it, so an arm's wall time is W plus start-up plus at most one epoch.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, TempDatabase, environment  # noqa: E402
from benchmarks.time_to_target import stop  # noqa: E402

HPO = [sys.executable, "-m", "hpo"]
SPACE = "auto"
TARGETS = (0.92, 0.93)
POLL_SECONDS = 5.0
FIXED_FILL = 0.95  # the fixed recipe's epochs fill this share of W: headroom for load changes
VAL_FRACTION = 0.1  # `hpo study create`'s default, which every arm uses


@dataclass(frozen=True)
class Arm:
    key: str  # the letter
    name: str
    what: str
    create: tuple[str, ...]  # `hpo study create` options besides space, data set, budget and seed
    fixed: bool = False  # the fixed recipe: one trial, its epochs chosen to fit W


ARMS: dict[str, Arm] = {arm.key: arm for arm in (
    Arm("a", "default", "TPE + promotion scheduler + final run over the last half, warm start "
        "(the service's default for a time budget)",
        ("--pruner", "promote")),
    Arm("b", "fixed", "the auto space's warm-start configuration, as many epochs as fit in W",
        ("--pruner", "none", "--trials", "1"), fixed=True),
    Arm("c", "random", "random search + promotion scheduler + final run, warm start", ("--sampler", "random", "--pruner", "promote")),
    Arm("d", "report004", "report 004: TPE, no pruning, 3 epochs per trial, no warm start",
        ("--sampler", "tpe", "--pruner", "none", "--epochs", "3", "--no-warm-start")),
)}
# The goals, per device kind, longest W first: (the W in minutes from which they
# apply, the default's test accuracy floor, its lead over the fixed recipe in points or None
# for no lead goal, whether it must beat every other arm).
GOALS: dict[str, tuple[tuple[float, float, float | None, bool], ...]] = {
    "cpu": ((120, 0.952, None, False), (0, 0.947, 0.3, False)),
    "cuda": ((0, 0.955, 0.0, True),),
}


@dataclass
class Sample:
    seconds: float  # since the arm's workers started
    best_val: float | None  # best validation accuracy reported so far (any trial, any epoch)
    best_complete: float | None  # best value of a completed trial so far (what export would pick)
    started: int
    complete: int
    pruned: int


@dataclass
class ArmResult:
    key: str
    name: str
    what: str
    workers: int
    threads: int
    create_command: list[str] = field(default_factory=list)
    epochs: int | None = None  # the fixed recipe's chosen epochs; None: the study's own
    probe: dict[str, float] = field(default_factory=dict)  # the fixed recipe's timing probe
    wall_seconds: float = 0.0  # workers' start to their exit
    killed: bool = False  # the workers overran the cap and were killed
    samples: list[Sample] = field(default_factory=list)
    trials_started: int = 0
    trials_complete: int = 0
    trials_pruned: int = 0
    epochs_trained: int = 0  # over all trials
    best_trial: int | None = None
    best_params: dict[str, Any] = field(default_factory=dict)
    best_epochs: int | None = None
    val_accuracy: float | None = None  # the exported trial's
    test_accuracy: float | None = None
    test_metrics: dict[str, Any] = field(default_factory=dict)
    error: str | None = None

    def best_val_at(self, seconds: float) -> float | None:
        seen = [s.best_val for s in self.samples if s.seconds <= seconds and s.best_val is not None]
        return max(seen) if seen else None

    def time_to(self, target: float) -> float | None:
        return next((s.seconds for s in self.samples if s.best_val is not None and s.best_val >= target), None)


_LOG_LOCK = threading.Lock()


def log(text: str) -> None:
    # Arms start from threads: print's text and its newline are two writes, so lines would mix.
    with _LOG_LOCK:
        sys.stdout.write(text + "\n")
        sys.stdout.flush()


def hpo_cli(args: list[str], what: str) -> None:
    """Run one `hpo` command in this process (the CLI's own code, without a second torch import)."""
    import click

    from hpo.cli import main

    try:
        main.main(args=args, prog_name="hpo", standalone_mode=False)
    except click.ClickException as exc:
        raise RuntimeError(f"{what} (`hpo {' '.join(args)}`): {exc.format_message()}") from None
    except SystemExit as exc:  # hpo's one-line errors exit with their code, the message already on stderr
        if exc.code:
            raise RuntimeError(f"{what} (`hpo {' '.join(args)}`) exited {exc.code}") from None


def probe_epoch_seconds(args: argparse.Namespace, threads: int, copies: int) -> dict[str, float]:
    """Seconds per epoch of the warm-start configuration on ``threads`` threads, from a timed slice.

    ``--probe-batches`` batches of training (after a short warm-up that pays the first-call
    costs) plus one validation pass, scaled to the whole training split. It runs in this
    process before the arms start, as ``copies`` probes at once (one per arm that will run
    beside the fixed recipe: their training competes for caches, memory bandwidth and, on a
    busy host, the cores), and the slowest counts.
    """
    import torch

    from hpo import data
    from hpo.spaces import get_space
    from hpo.training import train
    from hpo.training.loop import evaluate

    images = data.load(args.dataset)
    space = get_space(SPACE)
    config = space.build(dict(space.defaults or {}), 1)

    def splits(n: int | None) -> Any:
        return data.make_splits(images, val_fraction=VAL_FRACTION, seed=args.seed, device=args.device,
                                train_subset=n, val_subset=args.val_subset)

    train_images = len(splits(args.train_subset).train)
    probe_images = min(train_images, args.probe_batches * config.batch_size)
    probe = splits(probe_images)

    def timed(_: int) -> tuple[float, float]:
        start = time.perf_counter()
        result = train(config, probe, args.device)  # one epoch: the probe's images, then validation
        both = time.perf_counter() - start
        start = time.perf_counter()
        evaluate(result.model, probe.val)
        return both, time.perf_counter() - start

    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        train(config, splits(min(probe_images, 2 * config.batch_size)), args.device)  # warm-up
        with ThreadPoolExecutor(max_workers=copies) as pool:  # torch releases the GIL in its kernels
            both, validation = max(pool.map(timed, range(copies)))
    finally:
        torch.set_num_threads(before)
    per_image = max(both - validation, 1e-9) / probe_images
    return {"seconds_per_epoch": per_image * train_images + validation, "train_images": train_images,
            "probe_images": probe_images, "validation_seconds": validation, "copies": copies}


def sample(storage: Any, study_id: int, seconds: float) -> Sample:
    from optuna.trial import TrialState

    trials = storage.get_all_trials(study_id, deepcopy=False)
    reported = [v for t in trials for v in t.intermediate_values.values()]
    complete = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    return Sample(seconds, max(reported) if reported else None, max(complete) if complete else None,
                  started=sum(1 for t in trials if t.state != TrialState.WAITING or t.intermediate_values),
                  complete=len(complete), pruned=sum(1 for t in trials if t.state == TrialState.PRUNED))


@dataclass
class Prepared:
    """An arm whose study exists, ready for its workers."""

    arm: Arm
    study: str
    url: str
    folder: Path
    result: ArmResult


def prepare(arm: Arm, args: argparse.Namespace, url: str, cores: int, root: Path) -> Prepared:
    """Create the arm's study (in the main thread: `study create` defers Ctrl-C with a signal handler).

    CPU: one single-threaded worker per core of the arm, the service's advice for one host;
    the fixed recipe is one trial, so its one worker gets the arm's cores as threads. GPU: one
    worker.
    """
    on_gpu = args.device.startswith("cuda")
    workers = 1 if (arm.fixed or on_gpu) else cores
    threads = cores if (arm.fixed or on_gpu) else 1
    result = ArmResult(arm.key, arm.name, arm.what, workers, threads)
    folder = root / arm.name
    folder.mkdir(parents=True, exist_ok=True)
    name = f"sq-{arm.name}"
    budget_s = args.minutes * 60
    command = ["study", "create", name, "--space", SPACE, "--dataset", args.dataset,
               "--time-budget", f"{budget_s:.0f}s", "--seed", str(args.seed), *arm.create]
    if args.train_subset:
        command += ["--train-subset", str(args.train_subset)]
    if args.val_subset:
        command += ["--val-subset", str(args.val_subset)]
    if arm.fixed:
        result.probe = probe_epoch_seconds(args, threads, copies=args.parallel)
        result.epochs = max(1, math.floor(FIXED_FILL * budget_s / result.probe["seconds_per_epoch"]))
        command += ["--epochs", str(result.epochs)]
        log(f"  arm {arm.key}: the warm start takes {result.probe['seconds_per_epoch']:.1f} s per epoch on "
            f"{threads} thread(s), so {result.epochs} epochs fill {FIXED_FILL:.0%} of W")
    elif args.search_epochs and "--epochs" not in arm.create:
        command += ["--epochs", str(args.search_epochs)]
    result.create_command = ["hpo", *command]
    hpo_cli([*command, "--storage", url, "--artifacts", str(folder / "artifacts")], f"arm {arm.key}: study create")
    return Prepared(arm, name, url, folder, result)


def run_arm(prepared: Prepared, args: argparse.Namespace) -> ArmResult:
    """Workers until the study's time is up, then export and one test; failures are recorded, not raised."""
    import optuna
    from optuna.trial import TrialState

    arm, name, url, folder, result = prepared.arm, prepared.study, prepared.url, prepared.folder, prepared.result
    env = {**os.environ, "HPO_STORAGE": url, "HPO_ARTIFACTS": str(folder / "artifacts"),
           "HPO_NUM_THREADS": str(result.threads), "PYTHONWARNINGS": "ignore"}
    env.pop("HPO_WORKERS_PER_HOST", None)
    try:
        storage = optuna.storages.RDBStorage(url, skip_compatibility_check=True)
        study_id = storage.get_study_id_from_name(name)
        logs = [folder / f"worker{i}.log" for i in range(result.workers)]
        start = time.monotonic()
        procs = []
        for path in logs:
            with path.open("w") as stderr:  # the child keeps its own copy of the descriptor
                procs.append(subprocess.Popen([*HPO, "worker", name, "--device", args.device], env=env, cwd=folder,
                                              stdout=subprocess.DEVNULL, stderr=stderr))
        cap = args.minutes * 60 + args.grace_minutes * 60
        try:
            while any(p.poll() is None for p in procs):
                elapsed = time.monotonic() - start
                try:
                    result.samples.append(sample(storage, study_id, elapsed))
                except Exception as exc:  # a busy SQLite file: skip this reading, take the next
                    log(f"  arm {arm.key}: reading the study failed ({type(exc).__name__}); retrying")
                if elapsed > cap:
                    result.killed = True
                    break
                time.sleep(POLL_SECONDS)
        finally:
            stop(procs)
        result.wall_seconds = time.monotonic() - start
        result.samples.append(sample(storage, study_id, result.wall_seconds))
        codes = [p.returncode for p in procs]
        if any(codes) and not result.killed:
            raise RuntimeError(f"arm {arm.key}: workers exited with {codes}: {logs[0].read_text()[-1500:]}")
        trials = storage.get_all_trials(study_id, deepcopy=False)
        result.trials_started = sum(1 for t in trials if t.state != TrialState.WAITING or t.intermediate_values)
        result.trials_complete = sum(1 for t in trials if t.state == TrialState.COMPLETE)
        result.trials_pruned = sum(1 for t in trials if t.state == TrialState.PRUNED)
        result.epochs_trained = sum(len(t.intermediate_values) for t in trials)
        storage.remove_session()
        export_and_test(name, url, folder, result)
    except Exception as exc:  # one failed arm must not lose the others' hours
        result.error = f"{type(exc).__name__}: {exc}"
        log(f"  arm {arm.key} ({arm.name}) failed: {result.error}")
    return result


def export_and_test(name: str, url: str, folder: Path, result: ArmResult) -> None:
    """The best completed trial, exported as `hpo export` does, then tested ONCE on the test split."""
    import optuna

    from hpo.export.best import export_trial, pick_trial
    from hpo.export.evaluate import evaluate_checkpoint

    study = optuna.load_study(study_name=name, storage=url)
    trial = pick_trial(study)
    model = folder / f"{name}.pt"
    meta = export_trial(study, trial, model, str(folder / "artifacts"))
    result.best_trial = trial.number
    result.best_params = dict(trial.params)
    result.best_epochs = len(meta.get("history") or []) or None
    result.val_accuracy = (meta.get("metrics") or {}).get("val_accuracy")
    tested = evaluate_checkpoint(str(model), None, "test")
    result.test_metrics = dict(tested.metrics)
    result.test_accuracy = tested.metrics["accuracy"]


def checkpoints(args: argparse.Namespace) -> list[float]:
    """Seconds at which the table shows each arm's best validation accuracy: every interval, up to W."""
    step, end = args.interval * 60, args.minutes * 60
    count = max(1, math.ceil(end / step - 1e-9))
    return [min(end, step * (i + 1)) for i in range(count)]


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def minutes(seconds: float | None) -> str:
    return "not reached" if seconds is None else f"{seconds / 60:.1f} min"


def summary_lines(results: list[ArmResult], args: argparse.Namespace, layout: str) -> list[str]:
    marks = checkpoints(args)
    lines = [f"search quality on {args.dataset}: W = {args.minutes:g} min per arm; {layout}"]
    header = ["arm", "test acc", "val acc", "trials", "epochs"] + [f"val@{m / 60:g}m" for m in marks]
    rows = [header]
    for r in results:
        trials = f"{r.trials_complete}c/{r.trials_pruned}p/{r.trials_started}s"
        rows.append([f"{r.key} {r.name}", fmt(r.test_accuracy), fmt(r.val_accuracy), trials, str(r.epochs_trained),
                     *(fmt(r.best_val_at(m)) for m in marks)])
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines += ["  " + "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]
    lines.append("  (trials: complete / pruned or retired / started; epochs: trained over all trials)")
    for target in TARGETS:
        lines.append(f"  time to {target:.0%} validation accuracy: "
                     + ", ".join(f"{r.key} {minutes(r.time_to(target))}" for r in results))
    for r in results:
        extra = f"; {r.epochs} epochs chosen from {r.probe.get('seconds_per_epoch', 0):.0f} s/epoch" if r.epochs else ""
        cut = "; KILLED at the cap" if r.killed else ""
        error = f"; FAILED: {r.error}" if r.error else ""
        lines.append(f"  {r.key}: {r.workers} worker(s) x {r.threads} thread(s), {r.wall_seconds / 60:.1f} min wall, "
                     f"best trial {r.best_trial} ({r.best_epochs} epochs){extra}{cut}{error}")
    return lines


def goal_lines(results: list[ArmResult], device_kind: str, minutes: float) -> list[str]:
    """The issue's goals for the default arm, as measured (they are meant for W = 60 min and
    2 h on a CPU, 10 min on a GPU; a shorter W is judged by the next longer one's)."""
    _, floor, lead, beat_all = next(goal for goal in GOALS[device_kind] if minutes >= goal[0])
    by_key = {r.key: r for r in results}
    a = by_key.get("a")
    if a is None or a.test_accuracy is None:
        return []
    lines = [f"GOAL test accuracy a = {a.test_accuracy:.4f} (goal >= {floor}: {'met' if a.test_accuracy >= floor else 'missed'})"]
    b = by_key.get("b")
    if lead is not None and b is not None and b.test_accuracy is not None:
        diff = 100 * (a.test_accuracy - b.test_accuracy)
        ok = diff >= lead if lead > 0 else diff > 0
        lines.append(f"GOAL test accuracy a - b = {diff:+.2f} points (goal {'>= ' + str(lead) if lead else '> 0'}: "
                     f"{'met' if ok else 'missed'})")
    if beat_all:
        others = [r for r in results if r.key != "a" and r.test_accuracy is not None]
        ok = all(a.test_accuracy > r.test_accuracy for r in others)
        lines.append(f"GOAL a above every other arm: {'met' if ok else 'missed'}")
    return lines


SAMPLE_FIELDS = ["seconds", "best_val", "best_complete", "started", "complete", "pruned"]


def changes(samples: list[Sample]) -> list[Sample]:
    """The readings that differ from the one before in anything but the time, and the last one."""
    kept: list[Sample] = []
    for i, reading in enumerate(samples):
        state = asdict(reading) | {"seconds": None}
        if not kept or state != asdict(kept[-1]) | {"seconds": None} or i == len(samples) - 1:
            kept.append(reading)
    return kept


def save_json(path: Path, args: argparse.Namespace, results: list[ArmResult], layout: str, lines: list[str]) -> None:
    settings = {"minutes": args.minutes, "interval_minutes": args.interval, "cores": args.cores,
                "parallel": args.parallel, "device": args.device, "dataset": args.dataset,
                "train_subset": args.train_subset or "all", "val_subset": args.val_subset or "all",
                "seed": args.seed, "search_epochs": args.search_epochs or "the space's", "storage": args.storage,
                "layout": layout}
    marks = checkpoints(args)
    arms = []
    for r in results:
        data = asdict(r)
        # Only the readings where something changed (and the last): a 60-minute arm is read
        # ~700 times, and the change points keep every time to a target exact.
        data["samples"] = [[round(x.seconds, 1), x.best_val, x.best_complete, x.started, x.complete, x.pruned]
                           for x in changes(r.samples)]
        data["best_val_every_interval"] = {f"{m / 60:g}": r.best_val_at(m) for m in marks}
        data["minutes_to"] = {f"{t:.2f}": (None if r.time_to(t) is None else round(r.time_to(t) / 60, 2)) for t in TARGETS}
        arms.append(data)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"settings": settings, "environment": environment(), "sample_fields": SAMPLE_FIELDS,
                                "arms": arms, "summary": lines, "argv": committed_argv(sys.argv)}, indent=1, default=str))


def committed_argv(argv: list[str]) -> list[str]:
    """The command as the docs quote it: --workdir is a scratch folder of this machine that
    does not change the result, so its path is left out of the committed JSON."""
    out, skip = [], False
    for arg in argv:
        if skip:
            skip = False
        elif arg == "--workdir":
            skip = True
        elif not arg.startswith("--workdir="):
            out.append(arg)
    return out


def save_png(path: Path, args: argparse.Namespace, results: list[ArmResult], layout: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(8, 4.8))
    for r in results:
        points = [(s.seconds / 60, s.best_val) for s in r.samples if s.best_val is not None]
        if not points:
            continue
        xs, ys = zip(*points, strict=True)
        ax.step(xs, ys, where="post", marker=".", markersize=3, label=f"{r.key} {r.name}: test {fmt(r.test_accuracy)}")
    for target in TARGETS:
        ax.axhline(target, color="grey", linewidth=0.6, linestyle=":")
    ax.set_xlabel("minutes since the arm's workers started")
    ax.set_ylabel("best validation accuracy reported so far")
    ax.set_title(f"{args.dataset}, W = {args.minutes:g} min per arm\n{layout}", fontsize=9)
    ax.axvline(args.minutes, color="grey", linewidth=0.8, linestyle="--")
    ax.set_xlim(0, None)
    # Zoomed in on the accuracies that matter, yet low enough that every arm's final level shows.
    finals = [max(v) for r in results if (v := [s.best_val for s in r.samples if s.best_val is not None])]
    ax.set_ylim(min([0.85, *finals]) - 0.005, None)
    ax.legend(loc="lower right", fontsize=8)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def parse_args() -> argparse.Namespace:
    from hpo.devices import available_cores

    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0, help="W, the wall time of every arm (default 60)")
    p.add_argument("--arms", default="a,b,c,d", help="comma-separated, from: "
                   + "; ".join(f"{a.key} = {a.name}" for a in ARMS.values()))
    p.add_argument("--cores", type=int, default=None, help="cores to split among the arms that run at once "
                   "(default: this process's available cores)")
    p.add_argument("--parallel", type=int, default=None,
                   help="arms at a time (default: as many as there are cores, at most all arms; 1 on a GPU)")
    p.add_argument("--interval", type=float, default=5.0, help="minutes between the printed best-validation readings")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmark-results" / "search_quality.json",
                   help="the JSON to write; the PNG goes beside it with the suffix .png")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--train-subset", type=int, default=None, help="training images (default all; for smoke tests)")
    p.add_argument("--val-subset", type=int, default=None, help="validation images (default all; for smoke tests)")
    p.add_argument("--search-epochs", type=int, default=None,
                   help="epochs per trial for arms a and c (default: the auto space's own)")
    p.add_argument("--device", default=None, help="auto, cpu or cuda (default auto: CUDA when present)")
    p.add_argument("--storage", choices=("sqlite", "postgresql"), default="sqlite",
                   help="one fresh database per arm (postgresql: from HPO_BENCH_PG_URL)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--probe-batches", type=int, default=40, help="batches the fixed recipe's timing probe trains")
    p.add_argument("--grace-minutes", type=float, default=None,
                   help="kill an arm's workers this long after W (default: max(5, W / 2))")
    p.add_argument("--workdir", type=Path, default=None, help="keep studies, logs and models here (default: a temp dir)")
    args = p.parse_args()
    keys = [k.strip() for k in args.arms.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ARMS]
    if unknown or not keys:
        p.error(f"--arms is {args.arms!r}, but must list arms from {', '.join(ARMS)} (e.g. a,b)")
    args.arm_keys = keys
    if args.minutes <= 0:
        p.error(f"--minutes is {args.minutes:g}, but must be positive")
    if args.interval <= 0:
        p.error(f"--interval is {args.interval:g}, but must be positive")
    for name in ("search_epochs", "probe_batches", "train_subset", "val_subset"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} is {value}, but must be at least 1")
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    # The auto space sizes itself for HPO_DEVICE (search_spaces/auto.py): here, in the probe and
    # in every worker, it must be the device the arms train on.
    os.environ["HPO_DEVICE"] = args.device
    args.cores = available_cores() if args.cores is None else args.cores
    if args.cores < 1:
        p.error(f"--cores is {args.cores}, but must be at least 1")
    on_gpu = args.device.startswith("cuda")
    args.parallel = args.parallel or (1 if on_gpu else max(1, min(len(keys), args.cores)))
    if args.parallel < 1 or args.parallel > len(keys):
        p.error(f"--parallel is {args.parallel}, but must be between 1 and the number of arms ({len(keys)})")
    if args.cores < args.parallel:
        p.error(f"--cores is {args.cores} and --parallel {args.parallel}, but every arm needs at least one core; "
                "lower --parallel or raise --cores")
    args.grace_minutes = args.grace_minutes if args.grace_minutes is not None else max(5.0, args.minutes / 2)
    return args


def main() -> None:
    args = parse_args()
    arms = [ARMS[k] for k in args.arm_keys]
    cores = args.cores // args.parallel
    waves = [arms[i:i + args.parallel] for i in range(0, len(arms), args.parallel)]
    layout = (f"{args.cores} cores, {args.parallel} arm(s) at a time with {cores} core(s) each "
              f"({', then '.join('+'.join(a.key for a in wave) for wave in waves)}), device {args.device}")
    if args.cores > (os.cpu_count() or 1):
        layout += f" (oversubscribed: this host has {os.cpu_count()} cores)"
    log(f"search quality: {layout}; W = {args.minutes:g} min per arm, about "
        f"{len(waves) * args.minutes:g} min in all")
    import torch

    torch.set_num_threads(cores)  # this process's exports and tests run beside other arms' workers
    keep = args.workdir is not None
    root = args.workdir or Path(tempfile.mkdtemp(prefix="hpo-bench-sq-"))
    root.mkdir(parents=True, exist_ok=True)
    lock = threading.Lock()
    results: dict[str, ArmResult] = {}

    def one(prepared: Prepared) -> ArmResult:
        arm = prepared.arm
        log(f"  arm {arm.key} ({arm.name}) starts: {arm.what}")
        result = run_arm(prepared, args)
        with lock:
            log(f"  arm {arm.key} ({arm.name}) done: test accuracy {fmt(result.test_accuracy)}, "
                f"best validation {fmt(result.val_accuracy)}, {result.wall_seconds / 60:.1f} min")
            results[arm.key] = result
            ordered = [results[a.key] for a in arms if a.key in results]
            save_json(args.out, args, ordered, layout, [])  # after every arm: a stopped run keeps its arms
        return result

    try:
        with contextlib.ExitStack() as databases:
            # One database per arm: an SQLite file beside its logs, or a fresh PostgreSQL database.
            urls = [f"sqlite:///{root / arm.name}.db" if args.storage == "sqlite"
                    else databases.enter_context(TempDatabase("postgresql")) for arm in arms]
            prepared = [prepare(arm, args, url, cores, root) for arm, url in zip(arms, urls, strict=True)]
            # A pool of `parallel` threads keeps that many arms running: the next starts when one ends.
            with ThreadPoolExecutor(max_workers=args.parallel) as pool:
                list(pool.map(one, prepared))
    finally:
        if not keep:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
    ordered = [results[a.key] for a in arms]
    lines = summary_lines(ordered, args, layout) + goal_lines(ordered, "cuda" if args.device.startswith("cuda") else "cpu", args.minutes)
    log("\n".join(lines))
    save_json(args.out, args, ordered, layout, lines)
    save_png(args.out.with_suffix(".png"), args, ordered, layout)
    log(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    if any(r.error for r in ordered):
        sys.exit(1)


if __name__ == "__main__":
    main()
