"""Benchmark 4: per-trial overhead in a study with 10,000 trials against one with 100.

On PostgreSQL, with the default sampler and pruner, trivial `sleep` trials (0 s, 5 reports).
Two hpo studies get a bulk-inserted history (benchmarks/history.py) of SMALL and LARGE finished
trials; an in-process worker then runs N more trials in each, alternating. For context the
same is done with bare Optuna (``study.optimize``, TPE + ASHA, same storage).

hpo pre-creates a study's budget as WAITING trials, so a big study also means many WAITING
trials early on: a third hpo study has SMALL finished trials plus LARGE extra WAITING slots.

    python benchmarks/study_size.py [--quick] [--small 100] [--large 10000]

Prints RATIO size service large/small (goal <= 2), size service waiting/small and
size optuna large/small.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
import warnings
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import optuna  # noqa: E402

from benchmarks.common import TempDatabase, interleaved, parser, report, timed  # noqa: E402
from benchmarks.history import add_history, add_waiting  # noqa: E402

REPORTS = 5
warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def service_study(url: str, history: int, budget: int, waiting: int = 0) -> str:
    """A study as `hpo study create` leaves it after ``history`` trials: those finished, then
    ``budget + waiting`` WAITING slots (the rows `create` makes, bulk-inserted: `create` itself
    commits each slot separately, ~35 ms each)."""
    from hpo.config import MARKER, StudyConfig
    from hpo.trials.storage import open_storage

    name = f"service-{history}-{waiting}-{os.urandom(3).hex()}"
    config = StudyConfig(space="sleep", dataset="synthetic", budget=history + budget + waiting, epochs=REPORTS, seed=0)
    study = optuna.create_study(study_name=name, storage=open_storage(url), directions=config.directions)
    attrs = config.to_user_attrs()
    marker = attrs.pop(MARKER)
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    add_history(study, history, epochs=REPORTS)
    add_waiting(study, budget + waiting)
    study.set_user_attr(MARKER, marker)
    return name


def worker(url: str, name: str, artifacts: str):  # noqa: ANN201
    """A worker's context, built once like a long-lived `hpo worker` (its start-up is not measured)."""
    from hpo.worker.loop import WorkerOptions, build_context
    from hpo.worker.signals import StopFlag

    from hpo.settings import Settings

    settings = Settings.from_env().replace(storage=url, device="cpu", artifacts=artifacts)
    return build_context(WorkerOptions(name, settings), StopFlag())


def run_service(ctx, trials: int) -> float:  # noqa: ANN001
    """Seconds for ``trials`` turns of the worker loop: recover stale trials, claim, run, tell."""
    from hpo.worker.loop import run_one

    def turns() -> None:
        for _ in range(trials):
            ctx.queue.recover_stale()
            lease = ctx.queue.claim(ctx.identity)
            if lease is None:
                raise SystemExit("the study ran out of WAITING trials; raise its budget")
            run_one(ctx, lease)

    return timed(turns)


def optuna_study(url: str, history: int) -> optuna.Study:
    storage = optuna.storages.RDBStorage(url, heartbeat_interval=10, grace_period=60)
    study = optuna.create_study(
        study_name=f"optuna-{history}-{os.urandom(3).hex()}", storage=storage, direction="maximize",
        sampler=optuna.samplers.TPESampler(seed=0),
        pruner=optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    )
    add_history(study, history, epochs=REPORTS)
    return study


def run_optuna(study: optuna.Study, trials: int) -> float:
    from search_spaces.sleep import score

    def objective(trial: optuna.Trial) -> float:
        p = {"x": trial.suggest_float("x", 0.0, 1.0), "variant": trial.suggest_categorical("variant", ["wide", "narrow"])}
        value = 0.0
        for epoch in range(1, REPORTS + 1):
            value = score(p) * (1.0 - 0.5**epoch)
            trial.report(value, epoch)
            if trial.should_prune():
                raise optuna.TrialPruned()
        return value

    return timed(lambda: study.optimize(objective, n_trials=trials))


def main() -> None:
    p = parser(__doc__.splitlines()[0])
    p.add_argument("--small", type=int, default=100)
    p.add_argument("--large", type=int, default=None, help="default 10000 (1000 with --quick)")
    p.add_argument("--trials", type=int, default=None, help="trials per measurement (per side)")
    p.add_argument("--repeats", type=int, default=None)
    p.add_argument("--no-optuna", action="store_true", help="skip the bare-Optuna context pair")
    args = p.parse_args()
    large = args.large or (1_000 if args.quick else 10_000)
    trials = args.trials or (5 if args.quick else 20)
    repeats = args.repeats or (2 if args.quick else 3)
    os.environ["HPO_SLEEP_SECONDS"] = "0"
    os.environ.setdefault("HPO_NUM_THREADS", "1")
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    logging.getLogger("hpo").setLevel(logging.WARNING)
    with TempDatabase() as url, tempfile.TemporaryDirectory(prefix="hpo-bench-artifacts-") as artifacts:
        t0 = time.perf_counter()
        budget = trials * (repeats + 1)
        small_name, large_name = service_study(url, args.small, budget), service_study(url, large, budget)
        waiting_name = service_study(url, args.small, budget, waiting=large)
        contexts = {n: worker(url, n, artifacts) for n in (small_name, large_name, waiting_name)}
        candidates = {
            "service_small": lambda: run_service(contexts[small_name], trials),
            "service_large": lambda: run_service(contexts[large_name], trials),
            "service_waiting": lambda: run_service(contexts[waiting_name], trials),
        }
        if not args.no_optuna:
            small_study, large_study = optuna_study(url, args.small), optuna_study(url, large)
            candidates["optuna_small"] = lambda: run_optuna(small_study, trials)
            candidates["optuna_large"] = lambda: run_optuna(large_study, trials)
        setup = time.perf_counter() - t0
        for fn in list(candidates.values()):  # warm-up: fills each worker's trial cache
            fn()
        seconds = interleaved(candidates, repeats)
    per_trial = {name: s / trials for name, s in seconds.items()}
    results = {"small": args.small, "large": large, "trials": trials, "repeats": repeats, "setup_s": setup,
               **{f"{name}_s_per_trial": v for name, v in per_trial.items()}}
    ratios = [("size service large/small", per_trial["service_large"] / per_trial["service_small"], "<= 2"),
              ("size service waiting/small", per_trial["service_waiting"] / per_trial["service_small"], "<= 2")]
    if not args.no_optuna:
        ratios.append(("size optuna large/small", per_trial["optuna_large"] / per_trial["optuna_small"], None))
    report(results, ratios, args.json)


if __name__ == "__main__":
    main()
