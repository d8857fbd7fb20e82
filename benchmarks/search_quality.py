"""Benchmark 6: search quality at equal wall time: does the search beat not searching?

Each arm gets the same wall time W and, one arm after another, the whole machine, on all of
Fashion-MNIST with the same validation split (seed 0). Each searches on the validation split
only; its final model, the best completed trial, is exported and tested ONCE on the test split,
by the functions behind `hpo export` and `hpo evaluate --split test`, in this process:

- a `default`: the promotion scheduler with the final phase, `hpo study create --space auto
  --time-budget W --pruner promote`: TPE + promotions over the first half of W, then the
  final run, which takes every core of the host (the other workers stand by), grows the best
  configuration as far as its measured pace fits 47 epochs in the time left (--grow, the
  default with a final run since benchmark 6's arms b and e ran in one session), and trains
  until just before the deadline;
- b `fixed`: the auto space's warm-start configuration trained for W, what a user does without
  a search, on every core of the arm (one worker, that many threads). It is the final run alone
  (`--final-share 1 --pruner none --no-grow`): its learning rate anneals on the clock to just before the
  deadline, so it fills W whatever an epoch costs. (Until 2026-12-04 b trained a number of
  epochs chosen from a timed probe; on a GPU, with three arms side by side, the probe's three
  copies in one Python process overestimated an epoch 2.3 times and b used 42 % of W.)
- c `random`: random search with the same scheduler and final phase (`--sampler random --pruner promote`);
- d `report004`: report 004's approach, TPE without pruning, 3 epochs per trial and no warm
  start (`--pruner none --epochs 3 --no-warm-start`);
- e `grown`: the warm start grown by the final run's size rule and trained for W on every
  core, no search (`--final-share 1 --grow --pruner none`): it separates what the search adds
  from what growing the network adds;
- f `incumbent`: what `hpo study create --time-budget W` did with no other option until arm a,
  measured beside it, became the default (TPE + ASHA, warm start, no final run; export picks
  the best trial: `--pruner asha`).

Search arms (a, c, d, e, f) run one worker per core, their threads from the host's worker
registry (a folder of their own per arm, so arms never count each other's workers), so the
final run can take every core; HPO_NUM_THREADS is never pinned for them. Arms run `--parallel`
at a time (default 1); with more, each arm's workers are bound (taskset) to a slice of the
cores, so "every core" means the arm's slice.

Every few seconds the best validation accuracy REPORTED so far (any trial, any epoch) is read
from each arm's study. The run prints it every --interval minutes, the times to 92 % and 93 %
validation accuracy, each arm's test accuracy and final run, and writes a JSON and a PNG (--out).
The JSON records the commit (and whether the tree was dirty), the order the arms ran in, and
each arm's final run (size, pace, epochs, threads, when it ended against the deadline).

    nice -n 10 python benchmarks/search_quality.py --minutes 60       # a, b, e: 3 hours on one machine
    nice -n 10 python benchmarks/search_quality.py --minutes 60 --arms e --out docs/benchmark-results/search_quality-e-60min.json
    nice -n 10 python benchmarks/search_quality.py --minutes 60 --arms a --search-subset 13500 --final-share 0.75
                                    # arm a searching a quarter of the images for a quarter of W
    python benchmarks/search_quality.py --merge A.json B.json ...      # one table from arms run apart
    python benchmarks/search_quality.py --minutes 1 --train-subset 512 --val-subset 500 --interval 0.25

Each arm's clock starts when its workers start (their start-up counts); the study's own
time budget starts at its first claimed trial, and running trials stop at the first epoch
boundary after it, so an arm's wall time is W plus start-up plus at most one epoch.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime
import json
import math
import os
import queue
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import ROOT, TempDatabase, correct_string, environment, git_state, paired  # noqa: E402
from benchmarks.time_to_target import stop  # noqa: E402

HPO = [sys.executable, "-m", "hpo"]
SPACE = "auto"
TARGETS = (0.92, 0.93)
POLL_SECONDS = 5.0
LAST_SHARE = 0.02  # issue 25: the final run ends within the last 2 % of the budget
STANDBY_LINE = "standing by"  # what a worker logs when the host's final run takes its cores (hpo/worker/loop.py)
FINAL_RUN_LINE = "is the final run"  # what the worker that starts the final run logs (hpo/trials/final_phase.py)


@dataclass(frozen=True)
class Arm:
    key: str  # the issue's letter
    name: str
    what: str
    create: tuple[str, ...]  # `hpo study create` options besides space, data set, budget and seed
    fixed: bool = False  # the fixed recipe: one worker, every core of the arm as its threads
    searches: bool = True  # --search-epochs applies (it trains search trials of the study's epochs)
    final_phase: bool = False  # --final-share applies (it searches, then trains the best to the deadline)


ARMS: dict[str, Arm] = {arm.key: arm for arm in (
    Arm("a", "default", "TPE + promotion scheduler, warm start, then the final phase over the last "
        "--final-share of W (half by default): every core, the network grown (--grow, the default), "
        "trained to the deadline",
        ("--pruner", "promote"), final_phase=True),
    Arm("b", "fixed", "the auto space's warm-start configuration trained for W on the clock, one worker on every core",
        ("--final-share", "1", "--pruner", "none", "--no-grow"), fixed=True, searches=False),
    Arm("c", "random", "random search + promotion scheduler + final phase (grown), warm start",
        ("--sampler", "random", "--pruner", "promote"), final_phase=True),
    Arm("d", "report004", "report 004: TPE, no pruning, 3 epochs per trial, no warm start",
        ("--sampler", "tpe", "--pruner", "none", "--epochs", "3", "--no-warm-start")),
    Arm("e", "grown", "the warm start grown by the final run's size rule, trained for W on every core, no search",
        ("--final-share", "1", "--grow", "--pruner", "none"), searches=False),
    # What `hpo study create --time-budget W` did with no other option until the fifteenth
    # session, when arm a, measured beside it, replaced it as the default.
    Arm("f", "incumbent", "the default for a time budget until arm a replaced it: TPE + ASHA, warm start, "
        "no final run; export picks the best trial", ("--pruner", "asha")),
)}
DEFAULT_ARMS = "a,b,e"  # the issue's decisive three; c and d as `--arms c,d`
# The arms arm a must lead by the goal's points.
RIVALS = ("b", "e")
INCUMBENT = "f"  # the default a time budget had before arm a: a - f is what making a the default bought
# The issue's goals, per device kind, longest W first: (the W in minutes from which they
# apply, the default's test accuracy floor, its lead over each rival arm in points or None
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
    threads: int | None  # pinned threads per worker; None: from the arm's worker registry
    cores: int = 0  # the arm's share of the machine
    cpus: list[int] | None = None  # the CPUs its workers were bound to; None: all of this process's
    create_command: list[str] = field(default_factory=list)
    started_utc: str | None = None  # when its workers started
    load_at_start: float | None = None  # the host's 1-minute load average then (a quiet machine: < 0.5)
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
    # How the exported model runs at test time (hpo.models.test_time, chosen on validation by
    # its worker) and its validation accuracy with the mirror view; None before 2026-12-07.
    test_time_augment: str | None = None
    val_accuracy_flip: float | None = None
    # The bare network's test accuracy, when the model runs with a test-time view: what that
    # view changed on the same weights and images (a measurement, not a choice: the choice was
    # made on validation).
    test_accuracy_bare: float | None = None
    test_accuracy: float | None = None
    test_metrics: dict[str, Any] = field(default_factory=dict)
    # Which test images the exported model got right, in the test split's order
    # (benchmarks.common.correct_string): arms measured in different sessions then compare
    # image by image (GOAL lines' PAIRED), which separates differences one test cannot.
    # None before 2026-12-08.
    test_correct: str | None = None
    final_run: dict[str, Any] | None = None  # the study's final run, if it had one (final_run_info)
    stood_by: int = 0  # workers whose log says they stood by for the final run
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


def sample(storage: Any, study_id: int, seconds: float) -> Sample:
    from optuna.trial import TrialState

    trials = storage.get_all_trials(study_id, deepcopy=False)
    reported = [v for t in trials for v in t.intermediate_values.values()]
    complete = [t.value for t in trials if t.state == TrialState.COMPLETE and t.value is not None]
    return Sample(seconds, max(reported) if reported else None, max(complete) if complete else None,
                  started=sum(1 for t in trials if t.state != TrialState.WAITING or t.intermediate_values),
                  complete=len(complete), pruned=sum(1 for t in trials if t.state == TrialState.PRUNED))


class CoreSlots:
    """The machine's cores cut into ``parallel`` slices, one per arm running at a time.

    One arm at a time (the default) gets every core and is not bound at all; with more, each
    running arm's workers are bound to a slice of their own (taskset), so the registry's core
    share and the final run's "every core" mean the arm's slice, not the host's.
    """

    def __init__(self, cores: int, parallel: int) -> None:
        mine = sorted(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else list(range(os.cpu_count() or 1))
        self.per_arm = cores // parallel
        self.everything = self.per_arm >= len(mine)  # one arm, every core this process has: no binding
        self._free: queue.Queue[list[int]] = queue.Queue()
        for i in range(parallel):
            self._free.put(mine[i * self.per_arm:(i + 1) * self.per_arm])

    @contextlib.contextmanager
    def take(self) -> Iterator[list[int] | None]:
        """A free slice for one arm's run (None: every core, unbound); back when the arm ends."""
        cpus = self._free.get()
        try:
            yield None if self.everything else cpus
        finally:
            self._free.put(cpus)


@dataclass
class Prepared:
    """An arm whose study exists, ready for its workers."""

    arm: Arm
    study: str
    url: str
    folder: Path
    result: ArmResult


def layout_of(arm: Arm, args: argparse.Namespace, cores: int) -> tuple[int, int | None]:
    """(workers, pinned threads per worker or None for the registry's share) for one arm.

    CPU: the fixed recipe is one trial, so one worker with every core of the arm as threads;
    every other arm runs one worker per core and lets the host's worker registry share the
    cores, so the final run can take them all while the others stand by. GPU: one worker.
    """
    if arm.fixed:
        return 1, cores
    return (1 if args.device.startswith("cuda") else cores), None


def create_command(arm: Arm, args: argparse.Namespace, name: str) -> list[str]:
    """The arm's `hpo study create` command, without the fixed recipe's epochs or storage."""
    command = ["study", "create", name, "--space", SPACE, "--dataset", args.dataset,
               "--time-budget", f"{args.minutes * 60:.0f}s", "--seed", str(args.seed), *arm.create]
    if args.train_subset:
        command += ["--train-subset", str(args.train_subset)]
        if arm.final_phase or "--final-share" in arm.create:  # the final run too: a final run trains on all by default
            command += ["--final-train-subset", str(args.train_subset)]
    elif args.search_subset and arm.final_phase:
        command += ["--train-subset", str(args.search_subset)]  # the search only: the final run trains on all
    if args.val_subset:
        command += ["--val-subset", str(args.val_subset)]
    if args.search_epochs and arm.searches and "--epochs" not in arm.create:
        command += ["--epochs", str(args.search_epochs)]
    if args.final_share is not None and arm.final_phase:
        command += ["--final-share", f"{args.final_share:g}"]
    if args.final_patience and arm.final_phase:
        command += ["--final-patience", f"{args.final_patience:g}"]
    return command


def prepare(arm: Arm, args: argparse.Namespace, url: str, cores: int, root: Path) -> Prepared:
    """Create the arm's study (in the main thread: `study create` defers Ctrl-C with a signal handler)."""
    workers, threads = layout_of(arm, args, cores)
    result = ArmResult(arm.key, arm.name, arm.what, workers, threads, cores=cores)
    folder = root / arm.name
    folder.mkdir(parents=True, exist_ok=True)
    name = f"sq-{arm.name}"
    command = create_command(arm, args, name)
    result.create_command = ["hpo", *command]
    hpo_cli([*command, "--storage", url, "--artifacts", str(folder / "artifacts")], f"arm {arm.key}: study create")
    return Prepared(arm, name, url, folder, result)


def worker_env(prepared: Prepared) -> dict[str, str]:
    """The workers' environment: the arm's own store, artifacts and worker registry.

    A registry folder per arm: the workers of one arm count each other (and the final run
    takes their cores), never another arm's. HPO_NUM_THREADS and HPO_WORKERS_PER_HOST from the
    caller's shell are dropped: either would fix the threads and keep the final run on one core.
    """
    folder, result = prepared.folder, prepared.result
    env = {**os.environ, "HPO_STORAGE": prepared.url, "HPO_ARTIFACTS": str(folder / "artifacts"),
           "HPO_WORKER_REGISTRY": str(folder / "registry"), "PYTHONWARNINGS": "ignore"}
    env.pop("HPO_NUM_THREADS", None)
    env.pop("HPO_WORKERS_PER_HOST", None)
    if result.threads is not None:  # the fixed recipe's one worker: every core of the arm
        env["HPO_NUM_THREADS"] = str(result.threads)
    return env


def start_workers(prepared: Prepared, args: argparse.Namespace, cpus: list[int] | None) -> tuple[list[subprocess.Popen], list[Path]]:
    command = [*HPO, "worker", prepared.study, "--device", args.device]
    if cpus is not None:
        command = ["taskset", "-c", ",".join(map(str, cpus)), *command]
    env = worker_env(prepared)
    logs = [prepared.folder / f"worker{i}.log" for i in range(prepared.result.workers)]
    procs = []
    for path in logs:
        with path.open("w") as stderr:  # the child keeps its own copy of the descriptor
            procs.append(subprocess.Popen(command, env=env, cwd=prepared.folder, stdout=subprocess.DEVNULL, stderr=stderr))
    return procs, logs


def watch(procs: list[subprocess.Popen], storage: Any, study_id: int, result: ArmResult, start: float, cap: float) -> None:
    """Read the study every few seconds until the workers exit (or overrun ``cap`` seconds after ``start``)."""
    try:
        while any(p.poll() is None for p in procs):
            elapsed = time.monotonic() - start
            try:
                result.samples.append(sample(storage, study_id, elapsed))
            except Exception as exc:  # a busy SQLite file: skip this reading, take the next
                log(f"  arm {result.key}: reading the study failed ({type(exc).__name__}); retrying")
            if elapsed > cap:
                result.killed = True
                break
            time.sleep(POLL_SECONDS)
    finally:
        stop(procs)


def run_arm(prepared: Prepared, args: argparse.Namespace, cpus: list[int] | None) -> ArmResult:
    """Workers until the study's time is up, then export and one test; failures are recorded, not raised."""
    import optuna

    arm, result = prepared.arm, prepared.result
    result.cpus = cpus
    try:
        storage = optuna.storages.RDBStorage(prepared.url, skip_compatibility_check=True)
        study_id = storage.get_study_id_from_name(prepared.study)
        result.started_utc = datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds")
        result.load_at_start = round(os.getloadavg()[0], 2)
        start = time.monotonic()  # before the workers: their start-up counts
        procs, logs = start_workers(prepared, args, cpus)
        watch(procs, storage, study_id, result, start, args.minutes * 60 + args.grace_minutes * 60)
        result.wall_seconds = time.monotonic() - start
        result.samples.append(sample(storage, study_id, result.wall_seconds))
        codes = [p.returncode for p in procs]
        result.stood_by = sum(1 for path in logs if stood_by(path.read_text(errors="replace")))
        if any(codes) and not result.killed:
            raise RuntimeError(f"arm {arm.key}: workers exited with {codes}: {logs[0].read_text()[-1500:]}")
        count_trials(storage, study_id, result)
        result.final_run = final_run_info(storage, study_id, args.minutes * 60)
        storage.remove_session()
        export_and_test(prepared.study, prepared.url, prepared.folder, result)
        if result.final_run is not None:
            result.final_run["is_model"] = result.final_run["trial"] == result.best_trial
    except Exception as exc:  # one failed arm must not lose the others' hours
        result.error = f"{type(exc).__name__}: {exc}"
        log(f"  arm {arm.key} ({arm.name}) failed: {result.error}")
    return result


def stood_by(worker_log: str) -> bool:
    """Whether a worker stood by while the final run trained elsewhere on its host.

    The run's own worker logs the same line once its run is over (the run still "holds" the
    host), so only a stand-by before the worker's own final-run lines counts.
    """
    standby, trained = worker_log.find(STANDBY_LINE), worker_log.find(FINAL_RUN_LINE)
    return standby >= 0 and (trained < 0 or standby < trained)


def count_trials(storage: Any, study_id: int, result: ArmResult) -> None:
    from optuna.trial import TrialState

    trials = storage.get_all_trials(study_id, deepcopy=False)
    result.trials_started = sum(1 for t in trials if t.state != TrialState.WAITING or t.intermediate_values)
    result.trials_complete = sum(1 for t in trials if t.state == TrialState.COMPLETE)
    result.trials_pruned = sum(1 for t in trials if t.state == TrialState.PRUNED)
    result.epochs_trained = sum(len(t.intermediate_values) for t in trials)


def final_run_info(storage: Any, study_id: int, budget_s: float) -> dict[str, Any] | None:
    """The study's final run as it trained: size, pace, epochs, threads, and its end against the deadline.

    The run is the trial that carries ``final_run_epochs``; a retry (its worker died or was
    stopped) is a later trial with the same marks, so the last attempt is the one reported.
    """
    from hpo.trials import TrialKeys
    from hpo.trials.queue import DEADLINE_KEY

    attempts = [t for t in storage.get_all_trials(study_id, deepcopy=False)
                if t.user_attrs.get(TrialKeys.FINAL_EPOCHS) is not None and t.state.name != "WAITING"]
    if not attempts:
        return None
    run, attrs = attempts[-1], attempts[-1].user_attrs
    info: dict[str, Any] = {
        "trial": run.number, "attempts": len(attempts), "state": run.state.name, "of": attrs.get(TrialKeys.FINAL_OF),
        "size": attrs.get(TrialKeys.FINAL_SIZE), "seconds_per_epoch": attrs.get(TrialKeys.FINAL_PACE),
        "epochs_planned": attrs.get(TrialKeys.FINAL_EPOCHS), "epochs_trained": len(run.intermediate_values),
        "threads": attrs.get("threads"), "n_params": attrs.get("n_params"), "val_accuracy": run.value,
        "params": dict(run.params),
    }
    raw = storage.get_study_user_attrs(study_id).get(DEADLINE_KEY)
    if raw:
        info.update(deadline_timing(datetime.datetime.fromisoformat(raw).timestamp(), budget_s, run.datetime_start,
                                    attrs.get(TrialKeys.FINAL_STARTS), run.datetime_complete, attrs.get(TrialKeys.FINAL_PACE)))
    return info


def deadline_timing(deadline: float, budget_s: float, claimed: datetime.datetime | None, starts: float | None,
                    completed: datetime.datetime | None, seconds_per_epoch: float | None) -> dict[str, Any]:
    """When the run was claimed, started training (after taking the cores and sizing) and ended,
    in seconds since the budget's start, and whether it ended on time (issue 25: "within the
    last 2 % of the budget and at most one epoch past it")."""
    began = deadline - budget_s
    out: dict[str, Any] = {"claimed_s": None if claimed is None else round(claimed.timestamp() - began, 1),
                           "started_s": None if starts is None else round(float(starts) - began, 1)}
    if completed is not None:
        ended = completed.timestamp() - began
        out["ended_s"] = round(ended, 1)
        out["ended_before_deadline_s"] = round(budget_s - ended, 1)  # negative: after it
        out["ended_in_last_2pct"] = budget_s * (1 - LAST_SHARE) <= ended <= budget_s
        out["on_time"] = budget_s * (1 - LAST_SHARE) <= ended <= budget_s + (seconds_per_epoch or 0.0)
    return out


def export_and_test(name: str, url: str, folder: Path, result: ArmResult) -> None:
    """The best completed trial, exported as `hpo export` does, then tested ONCE on the test split."""
    import optuna

    from hpo.export.best import export_trial, pick_trial
    from hpo.export.evaluate import evaluate_checkpoint
    from hpo.trials import TrialKeys

    study = optuna.load_study(study_name=name, storage=url)
    trial = pick_trial(study)
    model = folder / f"{name}.pt"
    meta = export_trial(study, trial, model, str(folder / "artifacts"))
    result.best_trial = trial.number
    result.best_params = dict(trial.params)
    result.best_epochs = len(meta.get("history") or []) or None
    result.val_accuracy = (meta.get("metrics") or {}).get("val_accuracy")
    result.test_time_augment = meta.get("test_time_augment")
    result.val_accuracy_flip = trial.user_attrs.get(TrialKeys.VAL_ACCURACY_FLIP)
    tested = evaluate_checkpoint(str(model), None, "test")
    result.test_metrics = dict(tested.metrics)
    result.test_accuracy = tested.metrics["accuracy"]
    result.test_correct = correct_string(tested.correct)
    if result.test_time_augment not in (None, "none"):
        result.test_accuracy_bare = bare_test_accuracy(model)


def bare_test_accuracy(path: Path) -> float | None:
    """Test accuracy of the checkpoint's network without its test-time view."""
    from hpo.checkpoint import load_checkpoint
    from hpo.export.classifier import TorchClassifier
    from hpo.export.evaluate import split_for
    from hpo.export.model_io import model_from_checkpoint
    from hpo.training.metrics import classification_metrics

    checkpoint = load_checkpoint(path)
    bare = TorchClassifier(model_from_checkpoint(checkpoint, test_time=False), checkpoint["meta"])
    _, test = split_for(bare.meta, None, "test")
    return classification_metrics(bare.logits(test.x), test.y)["accuracy"]


def checkpoints(args: argparse.Namespace) -> list[float]:
    """Seconds at which the table shows each arm's best validation accuracy: every interval, up to W."""
    step, end = args.interval * 60, args.minutes * 60
    count = max(1, math.ceil(end / step - 1e-9))
    return [min(end, step * (i + 1)) for i in range(count)]


def fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def minutes(seconds: float | None) -> str:
    return "not reached" if seconds is None else f"{seconds / 60:.1f} min"


def final_run_line(r: ArmResult) -> str:
    """One line on an arm's final run: what it grew to, on how many threads, and when it ended."""
    f = r.final_run
    if not f:
        return ""
    grown = ", ".join(f"{k} {(f.get('params') or {}).get(k, '-')} -> {v}"
                      for k, v in (f.get("size") or {}).items()) or "not grown"
    end = ""
    if f.get("ended_before_deadline_s") is not None:
        before = f["ended_before_deadline_s"]
        when = f"{before:.1f} s before the deadline" if before >= 0 else f"{-before:.1f} s after the deadline"
        verdict = ("in the last 2 %" if f.get("ended_in_last_2pct") else
                   "within one epoch past it" if f.get("on_time") else "NOT on time: outside the last 2 % + one epoch")
        end = f", ended {when} ({verdict})"
    pace = f.get("seconds_per_epoch")
    state = "" if f.get("state") == "COMPLETE" else f"{f.get('state')}, "
    return (f"     final run: trial {f['trial']} (of trial {f.get('of')}), {state}{grown}, {f.get('threads')} thread(s) at its "
            f"start, {fmt(pace, 1)} s/epoch, {f.get('epochs_trained')} epochs (about {f.get('epochs_planned')} "
            f"planned){end}{'' if f.get('is_model', True) else '; not the exported model'}")


def arm_line(r: ArmResult) -> str:
    threads = f"{r.threads} thread(s)" if r.threads is not None else "threads from the registry"
    stood = f"; {r.stood_by} worker(s) stood by for the final run" if r.stood_by else ""
    cut = "; KILLED at the cap" if r.killed else ""
    error = f"; FAILED: {r.error}" if r.error else ""
    cores = f" on {r.cores} core(s)" if r.cores else ""  # results saved before this field have none
    return (f"  {r.key}: {r.workers} worker(s) x {threads}{cores}, {r.wall_seconds / 60:.1f} min wall, "
            f"best trial {r.best_trial} ({r.best_epochs} epochs){stood}{cut}{error}")


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
    lines.append("  (trials: complete / pruned or retired / started; epochs: trained over all trials; val acc: the "
                 "exported trial's validation accuracy at its last epoch; val@: the best any trial reported by then)")
    for target in TARGETS:
        lines.append(f"  time to {target:.0%} validation accuracy: "
                     + ", ".join(f"{r.key} {minutes(r.time_to(target))}" for r in results))
    for r in results:
        lines.append(arm_line(r))
        if line := final_run_line(r):
            lines.append(line)
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
    for key in RIVALS if lead is not None else ():
        rival = by_key.get(key)
        if rival is None or rival.test_accuracy is None:
            continue
        diff = 100 * (a.test_accuracy - rival.test_accuracy)
        ok = diff >= lead if lead else diff > 0
        lines.append(f"GOAL test accuracy a - {key} = {diff:+.2f} points (goal {'>= ' + str(lead) if lead else '> 0'}: "
                     f"{'met' if ok else 'missed'})")
        if line := paired_line(rival, a):
            lines.append(line)
    incumbent = by_key.get(INCUMBENT)
    if incumbent is not None and incumbent.test_accuracy is not None:  # no goal: what the default change bought
        lines.append(f"DEFAULT test accuracy a - {INCUMBENT} = {100 * (a.test_accuracy - incumbent.test_accuracy):+.2f} "
                     "points (a against the default it replaced)")
    if beat_all:
        others = [r.test_accuracy for r in results if r.key != "a" and r.test_accuracy is not None]
        ok = all(a.test_accuracy > other for other in others)
        lines.append(f"GOAL a above every other arm: {'met' if ok else 'missed'}")
    return lines


def paired_line(first: ArmResult, second: ArmResult) -> str | None:
    """``second - first`` image by image on the test split, where both arms recorded which
    images they got right (None otherwise: JSONs before 2026-12-08)."""
    if not first.test_correct or not second.test_correct or len(first.test_correct) != len(second.test_correct):
        return None
    v = paired(first.test_correct, second.test_correct)
    return (f"PAIRED test accuracy {second.key} - {first.key} = {100 * v['difference']:+.2f} points on the same "
            f"{len(first.test_correct)} images ({v['only_second']} only {second.key} got right, {v['only_first']} only "
            f"{first.key}; McNemar p = {v['p_value']:.3g})")


SAMPLE_FIELDS = ["seconds", "best_val", "best_complete", "started", "complete", "pruned"]


def changes(samples: list[Sample]) -> list[Sample]:
    """The readings that differ from the one before in anything but the time, and the last one."""
    kept: list[Sample] = []
    for i, reading in enumerate(samples):
        state = asdict(reading) | {"seconds": None}
        if not kept or state != asdict(kept[-1]) | {"seconds": None} or i == len(samples) - 1:
            kept.append(reading)
    return kept


def settings_of(args: argparse.Namespace, layout: str) -> dict[str, Any]:
    return {"minutes": args.minutes, "interval_minutes": args.interval, "cores": args.cores,
            "parallel": args.parallel, "device": args.device, "dataset": args.dataset,
            "train_subset": args.train_subset or "all", "val_subset": args.val_subset or "all",
            "seed": args.seed, "search_epochs": args.search_epochs or "the space's", "storage": args.storage,
            "final_share": args.final_share or "the service's",
            "final_patience": args.final_patience or "the service's",
            "search_subset": args.search_subset or "all",
            "layout": layout, "nice": os.nice(0) if hasattr(os, "nice") else None}


def arm_json(r: ArmResult, marks: list[float]) -> dict[str, Any]:
    data = asdict(r)
    # Only the readings where something changed (and the last): a 60-minute arm is read
    # ~700 times, and the change points keep every time to a target exact.
    data["samples"] = [[round(x.seconds, 1), x.best_val, x.best_complete, x.started, x.complete, x.pruned]
                       for x in changes(r.samples)]
    data["best_val_every_interval"] = {f"{m / 60:g}": r.best_val_at(m) for m in marks}
    data["minutes_to"] = {f"{t:.2f}": (None if (s := r.time_to(t)) is None else round(s / 60, 2)) for t in TARGETS}
    return data


def save_json(path: Path, args: argparse.Namespace, results: list[ArmResult], layout: str, lines: list[str]) -> None:
    marks = checkpoints(args)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"settings": settings_of(args, layout), "git": args.git, "environment": environment(),
                                "order": [r.key for r in results], "sample_fields": SAMPLE_FIELDS,
                                "arms": [arm_json(r, marks) for r in results], "summary": lines,
                                "argv": committed_argv(sys.argv)}, indent=1, default=str))


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


# --- one table from arms measured in different sessions ---------------------------------

# Settings that must agree for arms to be compared side by side.
COMPARABLE = ("minutes", "dataset", "device", "train_subset", "val_subset", "seed")


def load_arms(path: Path) -> tuple[dict[str, Any], list[ArmResult]]:
    """A saved run's settings (plus its commit) and arms, rebuilt as results (old JSONs too)."""
    saved = json.loads(path.read_text())
    names = {f.name for f in fields(ArmResult)}
    arms = []
    for data in saved["arms"]:
        result = ArmResult(**{k: v for k, v in data.items() if k in names and k != "samples"})
        result.samples = [Sample(*row) for row in data.get("samples", [])]
        arms.append(result)
    return {**saved["settings"], "git": saved.get("git"), "file": str(path)}, arms


def merge(paths: list[Path]) -> list[str]:
    """The side-by-side table and GOAL lines of per-arm JSONs; refuses runs that are not comparable."""
    runs = [load_arms(path) for path in paths]
    first = runs[0][0]
    for settings, _ in runs[1:]:
        differ = [k for k in COMPARABLE if settings.get(k) != first.get(k)]
        if differ:
            raise SystemExit(f"{settings['file']} differs from {first['file']} in {', '.join(differ)}: "
                             "its arms cannot be compared side by side")
    results: dict[str, ArmResult] = {}
    for settings, arms in runs:
        for arm in arms:
            if arm.key in results:
                raise SystemExit(f"arm {arm.key} is in more than one file (again in {settings['file']})")
            results[arm.key] = arm
    args = argparse.Namespace(minutes=first["minutes"], interval=first["interval_minutes"], dataset=first["dataset"])
    provenance = "; ".join(f"{', '.join(a.key for a in arms)} from {Path(s['file']).name} at "
                           f"{short_commit(s.get('git'))}, {s.get('layout', '?')}" for s, arms in runs)
    ordered = [results[k] for k in sorted(results)]
    kind = "cuda" if str(first["device"]).startswith("cuda") else "cpu"
    return summary_lines(ordered, args, f"merged: {provenance}") + goal_lines(ordered, kind, first["minutes"])


def short_commit(git: dict[str, Any] | None) -> str:
    if not git or not git.get("commit"):
        return "an unrecorded commit"
    return git["commit"][:7] + (" (dirty)" if git.get("dirty") else "")


# --- the command line -----------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    p.add_argument("--minutes", type=float, default=60.0, help="W, the wall time of every arm (default 60)")
    p.add_argument("--arms", default=DEFAULT_ARMS, help=f"comma-separated, in the order they run (default {DEFAULT_ARMS}), "
                   "from: " + "; ".join(f"{a.key} = {a.name}" for a in ARMS.values()))
    p.add_argument("--cores", type=int, default=None, help="cores to split among the arms that run at once "
                   "(default: this process's available cores)")
    p.add_argument("--parallel", type=int, default=1,
                   help="arms at a time, each bound to its share of --cores (default 1: every arm gets the whole machine)")
    p.add_argument("--interval", type=float, default=5.0, help="minutes between the printed best-validation readings")
    p.add_argument("--out", type=Path, default=ROOT / "docs" / "benchmark-results" / "search_quality.json",
                   help="the JSON to write; the PNG goes beside it with the suffix .png")
    p.add_argument("--merge", type=Path, nargs="+", default=None, metavar="JSON",
                   help="print one table and the GOAL lines from JSONs of arms run apart (e.g. one arm per session); runs nothing")
    p.add_argument("--dataset", default="fashion-mnist")
    p.add_argument("--train-subset", type=int, default=None, help="training images (default all; for smoke tests)")
    p.add_argument("--val-subset", type=int, default=None, help="validation images (default all; for smoke tests)")
    p.add_argument("--search-subset", type=int, default=None, metavar="N",
                   help="training images of the search of arms a and c (default all); their final run trains on all")
    p.add_argument("--search-epochs", type=int, default=None,
                   help="epochs per trial for arms a and c (default: the auto space's own)")
    p.add_argument("--final-share", type=float, default=None, metavar="SHARE",
                   help="the share of W that arms a and c give their final run (default: the service's)")
    p.add_argument("--final-patience", type=float, default=None, metavar="SHARE",
                   help="arms a and c start their final run once their search has gone this share of W without a "
                        "lead beyond the noise (hpo study create --final-patience; default: the service's)")
    p.add_argument("--device", default=None, help="auto, cpu or cuda (default auto: CUDA when present)")
    p.add_argument("--storage", choices=("sqlite", "postgresql"), default="sqlite",
                   help="one fresh database per arm (postgresql: from HPO_BENCH_PG_URL)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--grace-minutes", type=float, default=None,
                   help="kill an arm's workers this long after W (default: max(5, W / 2))")
    p.add_argument("--workdir", type=Path, default=None, help="keep studies, logs and models here (default: a temp dir)")
    return p


def check_args(p: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    from hpo.devices import available_cores

    keys = [k.strip() for k in args.arms.split(",") if k.strip()]
    unknown = [k for k in keys if k not in ARMS]
    if unknown or not keys or len(set(keys)) != len(keys):
        p.error(f"--arms is {args.arms!r}, but must list distinct arms from {', '.join(ARMS)} (e.g. a,b)")
    args.arm_keys = keys
    if args.minutes <= 0:
        p.error(f"--minutes is {args.minutes:g}, but must be positive")
    if args.interval <= 0:
        p.error(f"--interval is {args.interval:g}, but must be positive")
    if args.final_share is not None and not 0 < args.final_share < 1:
        p.error(f"--final-share is {args.final_share:g}, but must be between 0 and 1 (exclusive): "
                "arms b and e are the final run alone, and arm d has none")
    if args.final_patience is not None and not 0 <= args.final_patience < 1:
        p.error(f"--final-patience is {args.final_patience:g}, but must be at least 0 and below 1")
    if args.search_subset is not None and args.train_subset is not None:
        p.error("--search-subset and --train-subset both set training images: give one (--train-subset shrinks "
                "every arm, its final runs too, for smoke tests; --search-subset only the search of arms a and c)")
    for name in ("search_epochs", "search_subset", "train_subset", "val_subset"):
        value = getattr(args, name)
        if value is not None and value < 1:
            p.error(f"--{name.replace('_', '-')} is {value}, but must be at least 1")
    have = available_cores()
    args.cores = have if args.cores is None else args.cores
    if not 1 <= args.cores <= have:
        p.error(f"--cores is {args.cores}, but must be between 1 and this process's {have} available cores "
                "(each running arm's workers are bound to their share)")
    if args.parallel < 1 or args.parallel > len(keys):
        p.error(f"--parallel is {args.parallel}, but must be between 1 and the number of arms ({len(keys)})")
    if args.cores < args.parallel:
        p.error(f"--cores is {args.cores} and --parallel {args.parallel}, but every arm needs at least one core; "
                "lower --parallel or raise --cores")
    args.grace_minutes = args.grace_minutes if args.grace_minutes is not None else max(5.0, args.minutes / 2)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = build_parser()
    args = p.parse_args(argv)
    if args.merge:
        missing = [str(path) for path in args.merge if not path.is_file()]
        if missing:
            p.error(f"--merge names {', '.join(missing)}, which is not a file; pass the JSONs a run wrote (--out)")
        return args
    check_args(p, args)
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.device == "auto":
        args.device = "cuda" if torch.cuda.is_available() else "cpu"
    # The auto space sizes itself for HPO_DEVICE (search_spaces/auto.py): in every worker it
    # must be the device the arms train on.
    os.environ["HPO_DEVICE"] = args.device
    args.git = git_state(args.out)
    return args


def describe(args: argparse.Namespace, arms: list[Arm], cores: int) -> str:
    order = ", then ".join(a.key for a in arms) if args.parallel == 1 else f"{args.parallel} at a time in the order {','.join(a.key for a in arms)}"
    share = "every core each" if args.parallel == 1 else f"{cores} core(s) each, bound with taskset"
    fixed = "".join(f"; {a.key}: one worker x {cores} thread(s)" for a in arms if a.fixed)
    return (f"{args.cores} cores, {args.parallel} arm(s) at a time with {share} ({order}); search arms: one worker "
            f"per core, threads from the arm's worker registry{fixed}; device {args.device}")


def run_all(args: argparse.Namespace, arms: list[Arm], cores: int, root: Path, layout: str) -> list[ArmResult]:
    """Create every arm's study, then run the arms `--parallel` at a time; the JSON after each."""
    lock = threading.Lock()
    results: dict[str, ArmResult] = {}
    slots = CoreSlots(args.cores, args.parallel)

    def one(prepared: Prepared) -> ArmResult:
        arm = prepared.arm
        with slots.take() as cpus:
            log(f"  arm {arm.key} ({arm.name}) starts: {arm.what}")
            result = run_arm(prepared, args, cpus)
        with lock:
            log(f"  arm {arm.key} ({arm.name}) done: test accuracy {fmt(result.test_accuracy)}, "
                f"validation {fmt(result.val_accuracy)} (the exported trial's last epoch; with the mirror "
                f"view {fmt(result.val_accuracy_flip)}, test-time view {result.test_time_augment}; bare network's "
                f"test {fmt(result.test_accuracy_bare)}), "
                f"{result.wall_seconds / 60:.1f} min")
            results[arm.key] = result
            # The JSON after every arm: a stopped run keeps the arms it finished.
            save_json(args.out, args, [results[a.key] for a in arms if a.key in results], layout, [])
        return result

    with contextlib.ExitStack() as databases:
        # One database per arm: an SQLite file beside its logs, or a fresh PostgreSQL database.
        urls = [f"sqlite:///{root / arm.name}.db" if args.storage == "sqlite"
                else databases.enter_context(TempDatabase("postgresql")) for arm in arms]
        prepared = [prepare(arm, args, url, cores, root) for arm, url in zip(arms, urls, strict=True)]
        # A pool of `parallel` threads keeps that many arms running: the next starts when one ends.
        with ThreadPoolExecutor(max_workers=args.parallel) as pool:
            list(pool.map(one, prepared))
    return [results[a.key] for a in arms]


def main() -> None:
    args = parse_args()
    if args.merge:
        log("\n".join(merge(args.merge)))
        return
    arms = [ARMS[k] for k in args.arm_keys]
    cores = args.cores // args.parallel
    layout = describe(args, arms, cores)
    log(f"search quality: {layout}; W = {args.minutes:g} min per arm, about "
        f"{math.ceil(len(arms) / args.parallel) * args.minutes:g} min in all; commit {short_commit(args.git)}")
    import torch

    torch.set_num_threads(cores)  # this process's exports and tests run beside other arms' workers
    keep = args.workdir is not None
    root = args.workdir or Path(tempfile.mkdtemp(prefix="hpo-bench-sq-"))
    root.mkdir(parents=True, exist_ok=True)
    try:
        ordered = run_all(args, arms, cores, root, layout)
    finally:
        if not keep:
            import shutil

            shutil.rmtree(root, ignore_errors=True)
    lines = summary_lines(ordered, args, layout) + goal_lines(ordered, "cuda" if args.device.startswith("cuda") else "cpu", args.minutes)
    log("\n".join(lines))
    save_json(args.out, args, ordered, layout, lines)
    save_png(args.out.with_suffix(".png"), args, ordered, layout)
    log(f"wrote {args.out} and {args.out.with_suffix('.png')}")
    if any(r.error for r in ordered):
        sys.exit(1)


if __name__ == "__main__":
    main()
