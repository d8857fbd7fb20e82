"""Benchmark 5: wall time to a target validation accuracy on Fashion-MNIST, `cnn` space, 2 workers.

Three approaches, each a fresh hpo study worked by 2 real `hpo worker` processes:

- default: the service's default sampler and pruner (TPE + ASHA);
- report004: report 004's approach, plain TPE and no pruning (every trial trains all epochs);
- random: random search, no pruning.

The clock starts when the workers are started (so their start-up counts for everyone) and stops
at the first finished trial whose validation accuracy reaches the target; the workers are then
stopped. An approach that misses the target within --max-minutes is reported as "> limit",
which makes its ratio a lower bound.

    python benchmarks/time_to_target.py                 # the issue's setting: 90 %, full data (long)
    python benchmarks/time_to_target.py --quick         # 2,000 images, 80 %, 3 minutes per approach
    python benchmarks/time_to_target.py --train-subset 12000 --target 0.88 --max-minutes 15

Prints RATIO time report004/default (goal >= 10, never < 5) and random/default.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import TempDatabase, parser, report  # noqa: E402

HPO = [sys.executable, "-m", "hpo"]
APPROACHES = {
    "default": [],  # whatever `hpo study create` defaults to
    "report004": ["--sampler", "tpe", "--pruner", "none"],
    "random": ["--sampler", "random", "--pruner", "none"],
}


def first_hit(url: str, name: str, target: float) -> bool:
    import optuna
    from optuna.trial import TrialState

    study = optuna.load_study(study_name=name, storage=url)
    return any(t.state == TrialState.COMPLETE and t.value is not None and t.value >= target
               for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)))


def run(url: str, approach: str, args: object, folder: Path) -> tuple[float, int]:
    """Seconds until the target is reached (inf if not within the limit), and trials finished."""
    import optuna
    from optuna.trial import TrialState

    name = f"ttt-{approach}-{os.urandom(3).hex()}"
    env = {**os.environ, "HPO_STORAGE": url, "HPO_ARTIFACTS": str(folder / "artifacts"),
           "HPO_WORKERS_PER_HOST": str(args.workers), "PYTHONWARNINGS": "ignore"}
    env.pop("HPO_NUM_THREADS", None)
    create = [*HPO, "study", "create", name, "--space", "cnn", "--dataset", "fashion-mnist",
              "--trials", str(args.trials), "--epochs", str(args.epochs), "--seed", str(args.seed),
              *APPROACHES[approach]]
    if args.train_subset:
        create += ["--train-subset", str(args.train_subset)]
    subprocess.run(create, env=env, check=True, capture_output=True, cwd=folder)
    start = time.monotonic()
    procs = [subprocess.Popen([*HPO, "worker", name, "--device", args.device], env=env, cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(args.workers)]
    reached = float("inf")
    try:
        while time.monotonic() - start < args.max_minutes * 60 and any(p.poll() is None for p in procs):
            if first_hit(url, name, args.target):
                reached = time.monotonic() - start
                break
            time.sleep(2)
        else:
            if first_hit(url, name, args.target):
                reached = time.monotonic() - start
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)  # hand back at the next epoch boundary
        for proc in procs:
            try:
                proc.wait(timeout=120)
            except subprocess.TimeoutExpired:
                proc.kill()
    study = optuna.load_study(study_name=name, storage=url)
    finished = sum(1 for t in study.get_trials(deepcopy=False) if t.state in (TrialState.COMPLETE, TrialState.PRUNED))
    return reached, finished


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--target", type=float, default=None, help="validation accuracy (default 0.90; 0.80 with --quick)")
    p.add_argument("--train-subset", type=int, default=None, help="training images (default all; 2000 with --quick)")
    p.add_argument("--epochs", type=int, default=3, help="epochs per trial (report 004 used 3)")
    p.add_argument("--trials", type=int, default=100, help="budget of each study")
    p.add_argument("--workers", type=int, default=2)
    p.add_argument("--max-minutes", type=float, default=None, help="per approach (default 60; 3 with --quick)")
    p.add_argument("--approaches", default="default,report004,random")
    p.add_argument("--device", default="auto")
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    args.target = args.target or (0.80 if args.quick else 0.90)
    args.train_subset = args.train_subset or (2_000 if args.quick else None)
    args.max_minutes = args.max_minutes or (3.0 if args.quick else 60.0)
    results: dict[str, float | str | int] = {"target": args.target, "train_subset": args.train_subset or "all",
                                             "epochs": args.epochs, "workers": args.workers}
    with TempDatabase() as url, tempfile.TemporaryDirectory(prefix="hpo-bench-ttt-") as tmp:
        for approach in args.approaches.split(","):
            seconds, finished = run(url, approach, args, Path(tmp))
            results[f"{approach}_s"] = seconds
            results[f"{approach}_trials_finished"] = finished
            print(f"  {approach}: {'not reached' if seconds == float('inf') else f'{seconds:.0f} s'} ({finished} trials)", flush=True)
    ratios: list[tuple[str, float, str | None]] = []
    if "default_s" in results:
        for other, goal in (("report004", ">= 10"), ("random", None)):
            if f"{other}_s" in results:
                ratios.append((f"time {other}/default", float(results[f"{other}_s"]) / float(results["default_s"]), goal))
    report(results, ratios, args.json)


if __name__ == "__main__":
    main()
