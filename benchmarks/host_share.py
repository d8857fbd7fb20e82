"""Benchmark 7: two workers on one host, sharing its cores with and without being told.

Three arms, each two real `hpo worker` processes on one SQLite study of identical trials (a
fixed CNN on a Fashion-MNIST subset, benchmarks/spaces/fixed_cnn.py, no pruning), run one after
another and interleaved over rounds (the machine is shared: this spreads other load evenly):

- default: no HPO_* thread setting; the workers count each other (hpo.core_share);
- pinned:  HPO_WORKERS_PER_HOST=2, the README's old advice (cores / 2 threads each);
- today:   HPO_WORKERS_PER_HOST=1, the old default (every core's worth of threads each).

Throughput is epochs per minute summed over both workers, over the arm's training span (first
trial start to last trial end: start-up is not counted, a worker waiting for a core is).

    python benchmarks/host_share.py [--quick] [--rounds 2] [--json PATH]

Prints RATIO default/pinned (goal >= 0.95) and default/today (goal >= 1.0).
"""

from __future__ import annotations

import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import environment, parser, report  # noqa: E402

HPO = [sys.executable, "-m", "hpo"]
SPACE = str(Path(__file__).resolve().parent / "spaces" / "fixed_cnn.py")
ARMS = {"default": {}, "pinned": {"HPO_WORKERS_PER_HOST": "2"}, "today": {"HPO_WORKERS_PER_HOST": "1"}}


def run_arm(arm: str, folder: Path, trials: int, epochs: int, subset: int) -> dict[str, float]:
    """One study, two workers; returns the epochs per minute and the threads its trials used."""
    import optuna
    from optuna.trial import TrialState

    folder.mkdir(parents=True)
    env = {k: v for k, v in os.environ.items() if k not in ("HPO_NUM_THREADS", "HPO_WORKERS_PER_HOST")}
    env.update(ARMS[arm], HPO_STORAGE=f"sqlite:///{folder / 'hpo.db'}", HPO_ARTIFACTS=str(folder / "artifacts"),
               HPO_WORKER_REGISTRY=str(folder / "workers"), PYTHONWARNINGS="ignore")
    subprocess.run([*HPO, "study", "create", arm, "--space", SPACE, "--dataset", "fashion-mnist",
                    "--trials", str(trials), "--epochs", str(epochs), "--train-subset", str(subset), "--val-subset", "1000", "--pruner", "none"],
                   env=env, check=True, capture_output=True, cwd=folder)
    procs = [subprocess.Popen([*HPO, "worker", arm, "--device", "cpu"], env=env, cwd=folder,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) for _ in range(2)]
    if any(codes := [p.wait() for p in procs]):
        raise SystemExit(f"a worker of arm {arm} exited with {codes}")
    study = optuna.load_study(study_name=arm, storage=env["HPO_STORAGE"])
    done = [t for t in study.get_trials(deepcopy=False) if t.state == TrialState.COMPLETE]
    span = (max(t.datetime_complete for t in done) - min(t.datetime_start for t in done)).total_seconds()
    trained = sum(int(t.user_attrs["epochs_trained"]) for t in done)
    return {"epochs_per_min": 60 * trained / span, "span_s": span, "epochs": trained,
            "threads": sorted(int(t.user_attrs["threads"]) for t in done)}


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--rounds", type=int, default=None)
    p.add_argument("--trials", type=int, default=None, help="trials per arm (both workers together)")
    p.add_argument("--train-subset", type=int, default=None, help="training images per trial (6000; 2000 with --quick)")
    args = p.parse_args()
    rounds = args.rounds or (1 if args.quick else 2)
    trials, epochs = (args.trials or 4), 2
    subset = args.train_subset or (2000 if args.quick else 6000)
    os.environ.setdefault("HPO_DATA_DIR", str(Path(tempfile.gettempdir()) / "hpo-bench-data"))
    samples: dict[str, list[dict[str, float]]] = {arm: [] for arm in ARMS}
    with tempfile.TemporaryDirectory(prefix="hpo-host-share-") as tmp:
        names = list(ARMS)
        for r in range(rounds):
            for arm in names[r % 3:] + names[:r % 3]:  # rotated, so no arm always runs first
                result = run_arm(arm, Path(tmp) / f"{arm}-{r}", trials, epochs, subset)
                print(f"round {r} {arm}: {result['epochs_per_min']:.2f} epochs/min, threads {result['threads']}",
                      flush=True)
                samples[arm].append(result)
    rate = {arm: statistics.median(s["epochs_per_min"] for s in runs) for arm, runs in samples.items()}
    results = {"environment": environment(), "rounds": rounds, "trials_per_arm": trials, "epochs": epochs,
               "train_subset": subset, **{f"{arm}_epochs_per_min": rate[arm] for arm in ARMS}, "runs": samples}
    report(results, [("host_share default/pinned", rate["default"] / rate["pinned"], ">= 0.95"),
                     ("host_share default/today", rate["default"] / rate["today"], ">= 1.0")], args.json)


if __name__ == "__main__":
    main()
