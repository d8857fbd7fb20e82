"""The worker: claim a trial, train it, tell the result; until the study's budget is done.

    hpo worker STUDY

Everything else comes from the study and the environment (HPO_STORAGE, HPO_ARTIFACTS,
HPO_DATA_DIR, HPO_DEVICE). The loop survives database outages (hpo.worker.retry), keeps a
heartbeat that outlives them (hpo.worker.heartbeat), hands its trial back on SIGTERM, and
re-queues trials whose worker died (Optuna's RetryHeartbeatStaleTrialCallback).
"""

from __future__ import annotations

import logging
import os
import socket
import time
from collections import deque
from dataclasses import dataclass

import optuna
import torch
from optuna.trial import TrialState

from hpo import artifacts, data
from hpo.config import MARKER, StudyConfig
from hpo.devices import configure_threads, resolve_device
from hpo.errors import HpoError
from hpo.optuna_internals import enable_heartbeat, rdb_backend, trial_id
from hpo.spaces import get_space
from hpo.storage import first_line, load_study, open_storage, retry_callback
from hpo.studies.progress import progress, superseded_numbers
from hpo.studies.samplers import make_pruner, make_sampler
from hpo.training import NonFiniteLoss
from hpo.worker import checkpoints, objective, retry
from hpo.worker.claim import claim
from hpo.worker.context import WorkerContext
from hpo.worker.heartbeat import Heartbeat
from hpo.worker.signals import StopFlag, StopRequested

log = logging.getLogger("hpo.worker")

# After this many consecutive failures with the same message, the error is not transient
# (a broken space, a missing file): stop instead of burning the whole budget on it.
REPEATED_FAILURE_LIMIT = 3


@dataclass(frozen=True)
class WorkerOptions:
    study_name: str
    storage_url: str | None = None
    device: str | None = None
    max_trials: int | None = None
    artifacts: str | None = None
    wait_for_study: float = 0.0  # seconds to wait for the study to appear (compose start-up)
    download: bool = False


def _wait_for_study(options: WorkerOptions) -> tuple[optuna.Study, StudyConfig]:
    deadline = time.monotonic() + options.wait_for_study
    while True:
        try:
            storage = open_storage(options.storage_url)
            study = load_study(options.study_name, storage)
            if MARKER in study.user_attrs:
                return study, StudyConfig.of(study)
            problem: HpoError = HpoError(f"study {options.study_name!r} is still being created")
        except HpoError as exc:
            problem = exc
        if time.monotonic() >= deadline:
            raise problem
        log.info("waiting for study %r: %s", options.study_name, problem)
        time.sleep(2)


def build_context(options: WorkerOptions, stop: StopFlag) -> WorkerContext:
    study, config = _wait_for_study(options)
    worker_id = f"{socket.gethostname()}:{os.getpid()}"
    storage = rdb_backend(study)
    assert storage is not None  # open_storage always opens an RDBStorage
    # The heartbeat settings are the study's, known only now: set them on the same storage
    # rather than open a second one.
    enable_heartbeat(storage, config.heartbeat_interval, config.grace_period, retry_callback())
    space = get_space(config.space)
    study = optuna.load_study(
        study_name=options.study_name,
        storage=storage,
        sampler=make_sampler(config, space, worker_index=os.getpid()),
        pruner=make_pruner(config),
    )
    device = resolve_device(options.device or os.environ.get("HPO_DEVICE") or "auto")
    configure_threads(device)
    # Decode once; every trial of this worker reuses the tensors (on the GPU if there is one).
    loaded = data.load(config.dataset, download=options.download)
    splits = data.make_splits(
        loaded, val_fraction=config.val_fraction, seed=config.seed, device=device,
        train_subset=config.train_subset, val_subset=config.val_subset,
    )
    store = artifacts.open_store(artifacts.resolve_location(options.artifacts, config.extra.get("artifacts")))
    return WorkerContext(study, storage, config, space, splits, device, store, stop, worker_id)


def recover_stale(study: optuna.Study, grace_period: float) -> None:
    """Fail and re-queue trials whose worker stopped beating.

    Skipped right after our own database errors: after an outage every heartbeat looks old,
    and the owners need a grace period to beat again before we judge them dead.
    """
    if retry.seconds_since_last_error() < grace_period:
        return
    retry.call(lambda: optuna.storages.fail_stale_trials(study), "recover stale trials")


def _already_finished(ctx: WorkerContext, trial: optuna.Trial) -> bool:
    frozen = retry.call(lambda: ctx.storage.get_trial(trial_id(trial)), "read a trial")
    return frozen.state.is_finished()


def _tell(ctx: WorkerContext, trial: optuna.Trial, state: TrialState, values: list[float] | None = None) -> None:
    def tell() -> None:
        try:
            ctx.study.tell(trial, values, state=state, skip_if_finished=False)
        except (optuna.exceptions.UpdateFinishedTrialError, ValueError):
            # Finished already: a retried tell whose first attempt committed before the
            # connection dropped, or a trial another worker judged stale and re-queued.
            if not _already_finished(ctx, trial):
                raise

    retry.call(tell, "tell a result")


def _note(ctx: WorkerContext, trial: optuna.Trial, key: str, value: object) -> None:
    """Set a user attr unless the trial has been finished meanwhile (then it is not ours)."""
    try:
        retry.call(lambda: trial.set_user_attr(key, value), f"record {key}")
    except optuna.exceptions.UpdateFinishedTrialError:
        pass


def _hand_back(ctx: WorkerContext, trial: optuna.Trial) -> None:
    """Fail the trial and queue a retry that resumes from its last checkpoint."""
    _note(ctx, trial, "fail_reason", "handed back by a stopping worker")
    _tell(ctx, trial, TrialState.FAIL)
    trials = retry.call(lambda: ctx.study.get_trials(deepcopy=False), "hand a trial back")
    if trial.number in superseded_numbers(trials):
        return  # another worker already re-queued it (it judged us stale): one retry only
    frozen = next(t for t in trials if t.number == trial.number)
    if frozen.state == TrialState.FAIL:
        retry.call(lambda: retry_callback()(ctx.study, frozen), "re-queue a trial")


def run_one(ctx: WorkerContext, trial: optuna.Trial) -> str | None:
    """Run a claimed trial to its end. Returns the failure message, if it failed."""
    try:
        # The claim has just beaten for this trial.
        with Heartbeat(ctx.storage, trial_id(trial), ctx.config.heartbeat_interval, beat_now=False):
            values = objective.run(ctx, trial)
            _tell(ctx, trial, TrialState.COMPLETE, values)
            checkpoints.discard(ctx.artifact_store, trial)
            log.info("[%s] trial %d complete: %s", ctx.worker_id, trial.number, values)
            return None
    except optuna.TrialPruned as exc:
        _tell(ctx, trial, TrialState.PRUNED)
        checkpoints.discard(ctx.artifact_store, trial)
        log.info("[%s] trial %d %s", ctx.worker_id, trial.number, exc or "pruned")
        return None
    except NonFiniteLoss as exc:
        # Pruned, not failed: the sampler then learns this region is bad.
        _note(ctx, trial, "fail_reason", str(exc))
        _tell(ctx, trial, TrialState.PRUNED)
        checkpoints.discard(ctx.artifact_store, trial)
        log.warning("[%s] trial %d pruned: %s", ctx.worker_id, trial.number, exc)
        return None
    except StopRequested:
        _hand_back(ctx, trial)
        log.info("[%s] trial %d handed back for another worker to resume", ctx.worker_id, trial.number)
        return None
    except optuna.exceptions.UpdateFinishedTrialError:
        # Another worker judged our trial stale (e.g. after a long outage) and re-queued it;
        # the retry resumes from our last checkpoint, so our copy just stops.
        log.warning("[%s] trial %d was taken over by a retry; dropping it", ctx.worker_id, trial.number)
        return None
    except torch.cuda.OutOfMemoryError as exc:
        torch.cuda.empty_cache()
        return _fail(ctx, trial, f"CUDA out of memory: {first_line(exc)}")
    except HpoError as exc:
        return _fail(ctx, trial, str(exc))
    except Exception as exc:
        if retry.is_transient(exc):
            # A storage error that escaped the retry wrapper (e.g. inside a library call):
            # wait for the database, then hand the trial back to resume from its checkpoint.
            log.warning("[%s] trial %d: storage failed mid-trial (%s); handing it back", ctx.worker_id, trial.number, type(exc).__name__)
            _hand_back(ctx, trial)
            return None
        # One line for the user; the traceback only when debugging (HPO_LOG_LEVEL=DEBUG).
        log.debug("[%s] trial %d raised", ctx.worker_id, trial.number, exc_info=True)
        return _fail(ctx, trial, f"{type(exc).__name__}: {first_line(exc)}")


def _fail(ctx: WorkerContext, trial: optuna.Trial, reason: str) -> str:
    _note(ctx, trial, "fail_reason", reason)
    _tell(ctx, trial, TrialState.FAIL)
    log.error("[%s] trial %d failed: %s", ctx.worker_id, trial.number, reason)
    return reason


def run_worker(options: WorkerOptions) -> int:
    """Work on the study until its budget is done; returns the number of trials this worker ran."""
    stop = StopFlag()
    stop.install()
    ctx = build_context(options, stop)
    log.info(
        "[%s] working on study %r (%s on %s, budget %d, device %s, %d threads)",
        ctx.worker_id, ctx.study.study_name, ctx.config.space, ctx.config.dataset,
        ctx.config.budget, ctx.device, torch.get_num_threads(),
    )
    ran = 0
    recent_failures: deque[str] = deque(maxlen=REPEATED_FAILURE_LIMIT)
    poll = min(5.0, max(0.5, ctx.config.heartbeat_interval / 2))
    while not stop.is_set and (options.max_trials is None or ran < options.max_trials):
        recover_stale(ctx.study, ctx.config.grace_period)
        trial = claim(ctx.study)
        if trial is None:
            state = retry.call(lambda: progress(ctx.study, ctx.config.budget), "read progress")
            if state.done:
                break
            # Others are still training; stay, so their trials are re-queued if they die.
            time.sleep(poll)
            continue
        failure = run_one(ctx, trial)
        ran += 1
        recent_failures.append(failure or "")
        if failure and len(recent_failures) == REPEATED_FAILURE_LIMIT and len(set(recent_failures)) == 1:
            raise HpoError(f"{REPEATED_FAILURE_LIMIT} trials in a row failed with: {failure}; fix it and restart the worker")
    log.info("[%s] done: ran %d trials", ctx.worker_id, ran)
    return ran
