"""The worker: claim a trial, train it, end it; until the study's budget is done.

    hpo worker STUDY

Everything else comes from the study and the settings (HPO_STORAGE, HPO_ARTIFACTS,
HPO_DATA_DIR, HPO_DEVICE, ...; hpo.settings). The trial lifecycle (claims, leases, retries,
heartbeats, re-queueing) belongs to hpo.trials; this loop only reads like the flow:
recover stale trials, claim, train, settle the outcome (hpo.worker.outcomes).
"""

from __future__ import annotations

import logging
import time
from collections import deque
from dataclasses import dataclass

import torch

from hpo import artifacts, data
from hpo.core_share import join_host
from hpo.data.splits import train_images
from hpo.errors import HpoError
from hpo.settings import Settings
from hpo.spaces import get_space
from hpo.studies.samplers import make_sampler
from hpo.trials import Idle, Lease, Retrier, StudyDeleted, TrialQueue, WorkerIdentity
from hpo.worker import checkpoints, objective
from hpo.worker.checkpoints import CheckpointPolicy
from hpo.worker.context import WorkerContext, study_splits
from hpo.worker.outcomes import Ending, Outcome, classify, settle
from hpo.worker.signals import StopFlag

log = logging.getLogger("hpo.worker")

# After this many consecutive failures with the same message, the error is not transient
# (a broken space, a missing file): stop instead of burning the whole budget on it.
REPEATED_FAILURE_LIMIT = 3


@dataclass(frozen=True)
class WorkerOptions:
    study_name: str
    settings: Settings
    max_trials: int | None = None
    wait_for_study: float = 0.0  # seconds to wait for the study to appear (compose start-up)
    download: bool = False


def build_context(options: WorkerOptions, stop: StopFlag) -> WorkerContext:
    settings = options.settings
    identity = WorkerIdentity.create(settings)
    device, cores = join_host(settings, identity.token, identity.ordinal)  # registered from the start
    identity.device = str(device)  # its final-phase lane: the host's cores, or this GPU
    # Waits out an outage, but not past the first SIGTERM or Ctrl-C. Creates no SQLite file,
    # unless told to wait for a study that is not there yet (its storage may not be either).
    retrier = Retrier(settings.db_retry_timeout, stop=lambda: stop.is_set)
    queue = TrialQueue.open(options.study_name, settings.storage_url, retrier,
                            wait_for_study=options.wait_for_study,
                            must_exist=not options.wait_for_study)
    config = queue.config
    space = get_space(config.space)
    queue.attach(make_sampler(config, space, identity.sampler_seed(config.seed)))
    location = artifacts.resolve_location(settings.artifacts, config.extra.get("artifacts"))
    store = artifacts.open_store(location)
    artifacts.check_writable(store, location)  # before any claim: no trial trains for nothing
    # Decode once; every trial of this worker reuses the tensors (on the GPU if there is one).
    loaded = data.load(config.dataset, download=options.download)
    splits = study_splits(config, loaded, device, final_run=False)
    final_subset = config.train_subset_for(final_run=True)
    # What a final run's epoch trains on: its plan scales a subset search's pace up to it.
    queue.final.images = train_images(len(loaded.train_y), config.val_fraction, final_subset)
    # Kept only where a final run trains on other images than the search (it makes its splits
    # from them): otherwise the decoded set is garbage once the splits hold it, normalized.
    other = bool(config.final_share) and final_subset != config.train_subset
    return WorkerContext(queue, identity, settings, space, splits, device, store, stop,
                         CheckpointPolicy(settings.checkpoint_ratio), cores, images=loaded if other else None)


def run_one(ctx: WorkerContext, lease: Lease) -> str | None:
    """Run a leased trial to its end. Returns the failure message, if it failed."""
    with lease:  # heartbeats until the trial is settled
        try:
            outcome = Outcome(Ending.COMPLETE, values=objective.run(ctx, lease))
        except StudyDeleted:
            raise  # nothing is left to settle; run_worker stops
        except Exception as exc:
            outcome = classify(exc)
            if isinstance(exc, torch.cuda.OutOfMemoryError):
                torch.cuda.empty_cache()
            if outcome.unexpected:
                # One line for the user; the traceback only when debugging (HPO_LOG_LEVEL=DEBUG).
                log.debug("[%s] trial %d raised", ctx.name, lease.number, exc_info=True)
        outcome = settle(lease, outcome)
    if outcome.ending in (Ending.COMPLETE, Ending.PRUNED):
        checkpoints.discard(ctx.artifact_store, lease)
    _log_outcome(ctx, lease, outcome)
    return outcome.reason if outcome.ending is Ending.FAILED else None


def _log_outcome(ctx: WorkerContext, lease: Lease, outcome: Outcome) -> None:
    name, number = ctx.name, lease.number
    if outcome.ending is Ending.COMPLETE:
        log.info("[%s] trial %d complete: %s", name, number, list(outcome.values or []))
    elif outcome.ending is Ending.PRUNED and outcome.reason:  # e.g. a NaN loss: worth a warning
        log.warning("[%s] trial %d pruned: %s", name, number, outcome.reason)
    elif outcome.ending is Ending.PRUNED:
        log.info("[%s] trial %d %s", name, number, outcome.detail or "pruned")
    elif outcome.ending is Ending.PAUSED:
        log.info("[%s] trial %d paused at epoch %s, waiting for a promotion", name, number, outcome.epoch)
    elif outcome.ending is Ending.HANDED_BACK:
        log.info("[%s] trial %d handed back for another worker to resume (%s)", name, number, outcome.reason)
    elif outcome.ending is Ending.DROPPED:
        log.warning("[%s] trial %d was taken over by a retry; dropping it", name, number)
    else:
        log.error("[%s] trial %d failed: %s", name, number, outcome.reason)


def run_worker(options: WorkerOptions) -> int:
    """Work on the study until its budget is done; returns the number of trials this worker ran."""
    stop = StopFlag()
    stop.install()
    ctx = build_context(options, stop)
    queue = ctx.queue
    budget = " and ".join(b for b in (f"{ctx.config.budget} trials" if ctx.config.budget else "",
                                      f"{ctx.config.time_budget_s:g}s" if ctx.config.time_budget_s else "") if b)
    log.info(
        "[%s] working on study %r (%s on %s, budget %s, device %s, %d threads)",
        ctx.name, queue.name, ctx.config.space, ctx.config.dataset, budget, ctx.device, torch.get_num_threads(),
    )
    ran, stood_by, ran_final = 0, False, False
    recent_failures: deque[str] = deque(maxlen=REPEATED_FAILURE_LIMIT)
    poll = min(5.0, max(0.5, ctx.config.heartbeat_interval / 2))
    # Every storage call of an iteration (recover, claim, progress, the trial itself) raises
    # StudyDeleted once the study is gone (`hpo study delete`): one place stops for all of them.
    try:
        while not stop.is_set and (options.max_trials is None or ran < options.max_trials):
            # A final run trains on this worker's lane (its host's cores, or its GPU): it takes
            # them, and this worker stands by, searching nothing, in case the run's worker dies.
            standby = queue.final_run_on_lane(ctx.identity.lane)
            if standby and not stood_by and not ran_final:
                log.info("[%s] the study's final run trains on this host with its cores; standing by", ctx.name)
            stood_by = standby
            if standby and ctx.cores:
                ctx.cores.release()
            elif ctx.cores and not ctx.cores.trial_boundary(lambda: stop.is_set):
                break  # stopped while every core was taken: threads follow the host's live workers
            queue.recover_stale()
            lease = queue.claim(ctx.identity, standby=standby)
            if lease is None and (lease := queue.claim_to_end(ctx.identity)) is not None:
                # The time is spent: what paused or was handed back ends with what it reached.
                run_one(ctx, lease)
                continue
            if lease is None:
                idle = queue.scheduler.when_idle(queue.progress(), queue.promotable_now)
                if idle is Idle.RETIRE_PAUSED:
                    # No promotion is coming: the paused trials end where they are.
                    log.info("[%s] retired %d paused trials", ctx.name, queue.retire_paused())
                    continue
                if idle is Idle.DONE:
                    break
                # Others are still training; stay, so their trials are re-queued if they die.
                time.sleep(poll)
                continue
            ran_final = ran_final or lease.is_final_run
            failure = run_one(ctx, lease)
            ran += 1
            recent_failures.append(failure or "")
            if failure and len(recent_failures) == REPEATED_FAILURE_LIMIT and len(set(recent_failures)) == 1:
                raise HpoError(f"{REPEATED_FAILURE_LIMIT} trials in a row failed with: {failure}; fix it and restart the worker")
    except StudyDeleted as gone:
        log.warning("[%s] %s; stopping", ctx.name, gone)
    if ctx.cores:
        ctx.cores.close()  # the other workers on this host take its cores at their next trial
    log.info("[%s] done: ran %d trials", ctx.name, ran)
    return ran
