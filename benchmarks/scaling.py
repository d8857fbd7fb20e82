"""Benchmark 3: throughput of 1, 4 and 16 real `hpo worker` processes on PostgreSQL.

Each run creates a fresh `sleep` study (HPO_SLEEP_SECONDS=1 by default, 10 reports per trial,
no pruning so every trial costs exactly its sleep), starts N `hpo worker` processes and waits
for them. Throughput is measured in the steady-state window where all N workers are running
trials (from the latest worker's first trial start to the earliest worker's last finish), so
the ~3 s Python/torch start-up of each process is not counted:

    efficiency(N) = trials finished per second in the window / (N / seconds per trial)

    python benchmarks/scaling.py [--quick] [--workers 1,4,16] [--sleep 1.0]

Prints RATIO efficiency@N (goal >= 0.95 at 16) and RATIO scaling@N = throughput(N) / (N x
throughput(1)), which divides out the sleep-space overhead a single worker already pays.
"""

from __future__ import annotations

import os
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import TempDatabase, parser, report  # noqa: E402

HPO = [sys.executable, "-m", "hpo"]


def run(url: str, workers: int, trials_per_worker: int, sleep: float, epochs: int, folder: Path) -> dict[str, float]:
    """One study with ``workers`` processes; returns its steady-state throughput figures."""
    import optuna
    from optuna.trial import TrialState

    name = f"scale-{workers}-{os.urandom(3).hex()}"
    env = {**os.environ, "HPO_SLEEP_SECONDS": str(sleep), "HPO_WORKERS_PER_HOST": str(workers),
           "HPO_STORAGE": url, "HPO_ARTIFACTS": str(folder / "artifacts"), "PYTHONWARNINGS": "ignore"}
    env.pop("HPO_NUM_THREADS", None)
    budget = workers * trials_per_worker
    subprocess.run([*HPO, "study", "create", name, "--space", "sleep", "--dataset", "synthetic",
                    "--trials", str(budget), "--epochs", str(epochs), "--pruner", "none"],
                   env=env, check=True, capture_output=True, cwd=folder)
    procs = [subprocess.Popen([*HPO, "worker", name, "--device", "cpu"], env=env, cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(workers)]
    codes = [p.wait() for p in procs]
    if any(codes):
        raise SystemExit(f"a worker exited with {codes}; run `hpo worker {name}` by hand to see why")
    study = optuna.load_study(study_name=name, storage=url)
    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    by_worker: dict[str, list[optuna.trial.FrozenTrial]] = defaultdict(list)
    for t in done:
        by_worker[str(t.user_attrs.get("worker"))].append(t)
    start = max(min(t.datetime_start for t in ts) for ts in by_worker.values())
    end = min(max(t.datetime_complete for t in ts) for ts in by_worker.values())
    window = (end - start).total_seconds()
    inside = [t for t in done if t.datetime_start >= start and t.datetime_complete <= end]
    throughput = len(inside) / window if window > 0 else float("nan")
    return {"trials": len(done), "active_workers": len(by_worker), "window_s": window,
            "trials_in_window": len(inside), "throughput": throughput}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--workers", default="1,4,16")
    p.add_argument("--sleep", type=float, default=1.0, help="seconds per trial")
    p.add_argument("--epochs", type=int, default=10, help="reports per trial")
    p.add_argument("--trials-per-worker", type=int, default=None)
    args = p.parse_args()
    counts = [int(n) for n in args.workers.split(",")]
    if args.quick and args.workers == "1,4,16":
        counts = [1, 4]
    per_worker = args.trials_per_worker or (5 if args.quick else 25)
    results: dict[str, float | str] = {"sleep_s_per_trial": args.sleep, "reports_per_trial": args.epochs}
    ratios: list[tuple[str, float, str | None]] = []
    base = None
    with TempDatabase() as url, tempfile.TemporaryDirectory(prefix="hpo-bench-scaling-") as tmp:
        for n in counts:
            figures = run(url, n, per_worker, args.sleep, args.epochs, Path(tmp))
            for key, value in figures.items():
                results[f"{n}w_{key}"] = value
            ideal = n / args.sleep
            ratios.append((f"efficiency@{n}", figures["throughput"] / ideal, ">= 0.95" if n == 16 else None))
            if base is None:
                base = figures["throughput"]
            else:
                ratios.append((f"scaling@{n}", figures["throughput"] / (n * base), None))
    report(results, ratios, args.json)


if __name__ == "__main__":
    main()
