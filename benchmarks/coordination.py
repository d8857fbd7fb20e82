"""Benchmark 2: coordination overhead per trial, service path against bare Optuna.

Trivial trials (the `sleep` space with HPO_SLEEP_SECONDS, default 0: 10 reports, no compute),
one process, same storage, same sampler (TPE) and pruner (ASHA), same heartbeat interval:

- service: `hpo study create` + an in-process `hpo worker` (claim, heartbeat thread, per-trial
  user attrs, per-epoch checkpoints, stored model);
- optuna: ``study.optimize`` with an objective that suggests the same params and reports 10
  times, on an RDBStorage with the same heartbeat.

Each repeat runs a fresh study of N trials per side, alternating the sides.

    python benchmarks/coordination.py [--quick] [--storage postgresql|sqlite] [--sleep S]

Prints seconds per trial and RATIO service/optuna (goal <= 1.2).
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import optuna  # noqa: E402
import warnings  # noqa: E402

warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)

from benchmarks.common import TempDatabase, interleaved, parser, report, timed  # noqa: E402

REPORTS = 10
HEARTBEAT = 10
GRACE = 60


def run_service(url: str, trials: int, artifacts: str) -> float:
    """Seconds for one in-process worker to run a fresh sleep study of ``trials`` trials."""
    from hpo.config import StudyConfig
    from hpo.trials.storage import open_storage
    from hpo.studies.create import create
    from hpo.settings import Settings
    from hpo.worker.loop import WorkerOptions, run_worker

    name = f"service-{os.urandom(4).hex()}"
    config = StudyConfig(space="sleep", dataset="synthetic", budget=trials, epochs=REPORTS,
                         heartbeat_interval=HEARTBEAT, grace_period=GRACE, seed=0)
    create(name, config, open_storage(url))
    settings = Settings.from_env().replace(storage=url, device="cpu", artifacts=artifacts)
    return timed(lambda: run_worker(WorkerOptions(name, settings)))


def run_optuna(url: str, trials: int, seconds: float) -> float:
    """Seconds for bare ``study.optimize`` to run ``trials`` equivalent trials."""
    import time

    from search_spaces.sleep import score

    storage = optuna.storages.RDBStorage(
        url, heartbeat_interval=HEARTBEAT, grace_period=GRACE,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(),
    )
    study = optuna.create_study(
        study_name=f"optuna-{os.urandom(4).hex()}", storage=storage, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    )

    def objective(trial: optuna.Trial) -> float:
        p = {"x": trial.suggest_float("x", 0.0, 1.0), "variant": trial.suggest_categorical("variant", ["wide", "narrow"])}
        accuracy = 0.0
        for epoch in range(1, REPORTS + 1):
            time.sleep(seconds / REPORTS)
            accuracy = score(p) * (1.0 - 0.5**epoch)
            trial.report(accuracy, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return accuracy

    return timed(lambda: study.optimize(objective, n_trials=trials))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--storage", choices=["postgresql", "sqlite"], default="postgresql")
    p.add_argument("--sleep", type=float, default=0.0, help="seconds of 'training' per trial")
    p.add_argument("--trials", type=int, default=None)
    p.add_argument("--repeats", type=int, default=None)
    args = p.parse_args()
    trials = args.trials or (8 if args.quick else 40)
    repeats = args.repeats or (2 if args.quick else 5)
    os.environ["HPO_SLEEP_SECONDS"] = str(args.sleep)
    os.environ.setdefault("HPO_NUM_THREADS", "1")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("hpo").setLevel(logging.WARNING)
    with TempDatabase(args.storage) as url, tempfile.TemporaryDirectory(prefix="hpo-bench-artifacts-") as artifacts:
        seconds = interleaved({
            "service": lambda: run_service(url, trials, artifacts),
            "optuna": lambda: run_optuna(url, trials, args.sleep),
        }, repeats)
    per_trial = {name: s / trials for name, s in seconds.items()}
    results = {"storage": args.storage, "trials": trials, "repeats": repeats, "sleep_per_trial": args.sleep,
               **{f"{name}_s_per_trial": v for name, v in per_trial.items()},
               "overhead_s_per_trial": per_trial["service"] - per_trial["optuna"]}
    report(results, [("coordination service/optuna", per_trial["service"] / per_trial["optuna"], "<= 1.2")], args.json)


if __name__ == "__main__":
    main()
