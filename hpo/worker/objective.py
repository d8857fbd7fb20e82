"""One trial: params -> training run -> reported metrics, checkpoints and stored weights.

It adapts the Optuna-free training loop: each epoch it reports the validation metric, asks the
study's scheduler for a Decision (hpo.trials.scheduling), and leaves training with one
:class:`~hpo.worker.outcomes.Interrupt` carrying it when it is not "continue". It checkpoints its state to the artifact store (hpo.worker.checkpoints) so that a
retry of this trial (after a crash or a hand-back) resumes at the next epoch instead of
starting over. Setup and final metrics are written in one commit each.
"""

from __future__ import annotations

import logging
import math
import tempfile
import time
from pathlib import Path
from typing import Any

import optuna
import torch

from hpo.checkpoint import save_checkpoint, versions
from hpo.config import OBJECTIVES
from hpo.data.splits import Splits
from hpo.lossplot import draw_loss_png
from hpo.training import TrainConfig, TrainResult, TrainState, train
from hpo.training.budget import TimeBudget
from hpo.training.precision import choose as choose_precision
from hpo.training.test_time import choose_test_time
from hpo.trials import (
    Action, EpochEnd, Lease, ModelMeta, TrialKeys, TrialSetup, artifact_url, save_trial_note, trial_note,
    write_curves_file,
)
from hpo.worker import final_phase
from hpo.worker.checkpoints import TrialCheckpoints, load_resume_state
from hpo.worker.context import WorkerContext
from hpo.worker.outcomes import Interrupt
from hpo.worker.progress import TrialProgress

log = logging.getLogger("hpo.worker")


class EpochReporter:
    """Reports each epoch, asks the scheduler, may checkpoint, and interrupts on its decision."""

    def __init__(self, ctx: WorkerContext, lease: Lease, first_epoch: int = 1, budget: TimeBudget | None = None) -> None:
        self.ctx, self.lease, self.budget = ctx, lease, budget
        self.checkpoints = TrialCheckpoints(ctx.artifact_store, lease, ctx.checkpoint_policy)
        self.progress = TrialProgress(ctx.name, lease.number, lease.epochs, first_epoch=first_epoch,
                                      ends=budget.ends if budget is not None else None)
        # The study enqueues the space's defaults first (hpo.studies.create): trial 0, or its retry.
        self.warm_start = ctx.config.warm_start and lease.original_number == 0

    def pace(self, epoch: int) -> dict[str, float]:
        """The attempt's seconds per epoch, for the trial record (what a final run is sized by)."""
        seconds = self.progress.seconds_per_epoch(epoch)
        return {TrialKeys.SECONDS_PER_EPOCH: round(seconds, 3)} if math.isfinite(seconds) else {}

    def epochs(self, epoch: int) -> int:
        """The epochs this trial trains in all; a timed run's last is the one its clock ends in."""
        if self.budget is None:
            return self.lease.epochs
        return epoch if self.budget.spent() else max(self.lease.epochs, epoch + 1)

    def on_epoch_end(self, state: TrainState, metrics: dict[str, float | None]) -> None:
        lease, ctx = self.lease, self.ctx
        value = metrics.get(ctx.config.metric)
        epoch = state.epoch
        if value is not None and len(ctx.config.objectives) == 1:
            # A crash before this epoch's checkpoint retrains the epoch; its second report of
            # the same step is ignored by Optuna, and the retry inherited the first.
            lease.report(float(value), epoch)
        self.progress.epoch(epoch, float(metrics["train_loss"] or float("nan")), ctx.config.metric, value)
        end = EpochEnd(lease.number, epoch, self.epochs(epoch), value, final_run=lease.is_final_run,
                       stop_requested=ctx.stop.is_set, warm_start=self.warm_start)
        if lease.is_final_run and ctx.cores:
            ctx.cores.top_up()  # seats the host's other workers freed since the run started
        decision = ctx.queue.scheduler.decide(end, ctx.queue.view(lease))
        if not decision.interrupts:
            if not end.last:  # after the last epoch the model itself is stored instead
                self.checkpoints.maybe_save(state)
            return
        result = None
        if decision.keeps_checkpoint:
            # Always: whoever resumes it (a promotion, a retry) starts from this checkpoint;
            # its pace sizes a final run even though the trial has not finished.
            self.checkpoints.save(state)
            lease.record(self.pace(epoch))
        elif decision.action is Action.PRUNE:
            # Deep plain CNNs pruned at epoch 1 are exactly the trials report 001's
            # vanishing-gradient claim is about: keep their diagnostics.
            lease.record(store_curves(ctx, lease, state.diagnostics()))
        elif decision.action is Action.END:
            # The study's time is spent: keep what this trial reached, as a complete trial.
            result = TrainResult(state.model, list(state.history),
                                 {k: v for k, v in metrics.items() if k.startswith("val_")}, state.diagnostics())
        raise Interrupt(decision, result)


def trial_config(ctx: WorkerContext, lease: Lease) -> tuple[dict[str, Any], TrainConfig]:
    params = lease.suggest(ctx.space.suggest)
    # The final run trains longer than the study's --epochs, its schedule spanning all of them.
    return params, build_config(ctx, lease, params, lease.epochs)


def build_config(ctx: WorkerContext, lease: Lease, params: dict[str, Any], epochs: int) -> TrainConfig:
    """The run of ``params`` for ``epochs`` epochs, with this trial's seed and the study's overrides."""
    # The seed follows the logical trial, so a retry trains exactly what the first attempt did;
    # on a seeded grid it follows the slot's repeat, so the k-th repeats of all cells are paired.
    replicate = lease.user_attrs.get(TrialKeys.REPLICATE)
    seed = ctx.config.seed * 100_003 + (lease.original_number if replicate is None else int(replicate))
    config = ctx.space.build(params, epochs).replace(seed=seed, epochs=epochs)
    if ctx.settings.precision is not None:  # HPO_PRECISION; kept in train_config, so retrain matches
        config = config.replace(precision=ctx.settings.precision)
    if ctx.config.batch_size is not None:
        config = config.replace(batch_size=ctx.config.batch_size)
    return config


def store_model(ctx: WorkerContext, lease: Lease, config: TrainConfig, params: dict[str, Any], result: TrainResult,
                splits: Splits, test_time: str) -> str:
    """Upload the final weights as a self-describing checkpoint (with the normalization of the
    ``splits`` it trained on); returns its artifact id."""
    meta = ModelMeta(
        model=config.model,
        train_config=config.to_dict(),
        params=params,
        dataset=splits.dataset,
        input_shape=list(splits.input_shape),
        num_classes=splits.num_classes,
        classes=list(splits.classes),
        normalization=splits.normalization.to_dict(),
        metrics=result.metrics,
        history=result.history,
        versions=versions(),
        study=ctx.queue.name,
        trial=lease.number,
        study_config=ctx.config.to_user_attrs(),
        test_time_augment=test_time,
    )
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / f"trial{lease.number}-model.pt"
        save_checkpoint(path, result.model.state_dict(), meta.to_dict())
        return lease.attach_file(ctx.artifact_store, str(path))


def store_curves(ctx: WorkerContext, lease: Lease, diagnostics: dict[str, Any]) -> dict[str, str]:
    """Upload the run's curves (JSON) and its loss-curve PNG, listed with the trial; returns their ids."""
    with tempfile.TemporaryDirectory() as tmp:
        curves = write_curves_file(tmp, lease.number, diagnostics)
        png = Path(tmp) / f"trial{lease.number}-loss.png"
        draw_loss_png(diagnostics.get(TrialKeys.LOSS_CURVES) or {}, png, f"trial {lease.number}: loss per epoch")
        return {TrialKeys.CURVES: lease.attach_file(ctx.artifact_store, str(curves)),
                TrialKeys.LOSS_PLOT: lease.attach_file(ctx.artifact_store, str(png))}


def write_note(lease: Lease, config: TrainConfig, n_params: int, summary: dict[str, Any]) -> None:
    """The trial's dashboard note; a note that cannot be written is logged, never fails the trial."""
    body = trial_note(lease.number, config.model, n_params, int(summary["epochs_trained"]), lease.epochs, summary,
                      artifact_url(lease.trial, summary[TrialKeys.LOSS_PLOT]))
    try:
        save_trial_note(lease.trial, body)
    except Exception as exc:  # the database's own errors vary; the trial's results are already stored
        log.warning("trial %d: could not write its dashboard note: %s", lease.number, exc)


def objective_values(ctx: WorkerContext, result: TrainResult, n_params: int) -> list[float]:
    values = []
    for name in ctx.config.objectives:
        metric = OBJECTIVES[name][1]
        if metric == "n_params":
            values.append(float(n_params))
        elif metric == "latency_ms":
            # Measured as deployed: the trained model exported to ONNX, run by ONNX Runtime on the CPU.
            from hpo.export.latency import onnx_latency_ms

            values.append(onnx_latency_ms(result.model, ctx.splits.input_shape))
        else:
            value = result.metrics.get(metric)
            if value is None:
                raise ValueError(f"objective {name!r} needs metric {metric!r}, which this run did not produce")
            values.append(float(value))
    return values


def run(ctx: WorkerContext, lease: Lease) -> list[float]:
    """Train the leased trial to the end; raises an Interrupt (the scheduler's decision),
    TrialPruned, or the training error."""
    params, config = trial_config(ctx, lease)
    # A final run trains on every training image, even when the search used a subset.
    splits = ctx.splits_for(lease.is_final_run)
    budget: TimeBudget | None = None
    if lease.is_final_run and not lease.ending:
        # Every core of the host, maybe a grown model, and a schedule that follows the clock.
        final = final_phase.prepare(ctx, lease, params, lambda p: build_config(ctx, lease, p, ctx.config.epochs), splits)
        params, config, budget = final.params, final.config, final.budget
    resume = load_resume_state(ctx.artifact_store, lease)
    if budget is not None and budget.spent() and resume is None:
        # Getting ready (the cores, the size) took what was left of a very short budget.
        raise optuna.TrialPruned("no time was left to train the final run")
    if lease.ending:
        # The time is up: end with what it reached. Training "up to" the checkpoint's epoch
        # trains nothing, and returns its weights and last validation metrics, which agree.
        if resume is None:
            raise optuna.TrialPruned("the time budget ran out and it had no checkpoint to end from")
        config = config.replace(epochs=int(resume["epoch"]))
        log.info("[%s] trial %d ends at epoch %d: the study's time budget ran out", ctx.name, lease.number,
                 config.epochs)
    precision = choose_precision(ctx.device, config.precision, config.model.get("arch"))
    setup = TrialSetup(
        seed=config.seed, device=str(ctx.device), threads=torch.get_num_threads(), worker=ctx.name,
        sampler_seed=ctx.identity.sampler_seed(ctx.config.seed), versions=versions(),
        train_config=config.to_dict(), resumed_from_epoch=int(resume["epoch"]) if resume else None,
        precision=precision.name, val_images=len(splits.val),
        train_images=len(splits.train),
    )
    if resume is not None:
        log.info("[%s] trial %d resumes after epoch %d", ctx.name, lease.number, resume["epoch"])
    lease.record(setup.to_attrs())
    started = time.monotonic()
    first_epoch = int(resume["epoch"]) + 1 if resume else 1
    reporter = EpochReporter(ctx, lease, first_epoch=first_epoch, budget=budget)
    try:
        result = train(config, splits, ctx.device, callbacks=[reporter], resume=resume, budget=budget)
    except Interrupt as cut:
        if cut.decision.action is not Action.END:
            raise  # the loop applies it to the lease (hpo.worker.outcomes)
        result = cut.result  # type: ignore[assignment]
        log.info("[%s] trial %d stopped at epoch %d: the study's time budget ran out", ctx.name, lease.number,
                 len(result.history))
    finally:
        reporter.progress.close()  # end the live line before the outcome is logged
    n_params = sum(p.numel() for p in result.model.parameters())
    summary: dict[str, Any] = {**result.metrics, "n_params": n_params, "train_seconds": round(time.monotonic() - started, 3),
                               "epochs_trained": len(result.history)}
    summary.update(reporter.pace(len(result.history)))
    if budget is not None:
        # A timed run's epochs are known only now: retrain repeats them on an epoch schedule.
        config = config.replace(epochs=max(1, len(result.history)))
        summary[TrialKeys.TRAIN_CONFIG] = config.to_dict()
        summary[TrialKeys.FINAL_THREADS] = torch.get_num_threads()  # with the seats taken since it began
    # Chosen on validation now that the weights are final; the trial's value stays the bare
    # model's, so trials with and without it rank alike.
    # A study that measures latency ranked the bare network's, which the mirror view would double.
    offered = config.augment if "latency" not in ctx.config.objectives else "none"
    tta = choose_test_time(result.model, splits.val, offered, result.metrics.get("val_accuracy"), precision)
    summary.update(tta.to_attrs())
    summary[TrialKeys.MODEL] = store_model(ctx, lease, config, params, result, splits, tta.name)
    # Gradient norms and loss curves go to files of the trial, not its user attrs (pages stay readable).
    summary.update(store_curves(ctx, lease, result.diagnostics))
    if ctx.device.type == "cuda":
        torch.cuda.empty_cache()
    values = objective_values(ctx, result, n_params)
    if "latency" in ctx.config.objectives:
        summary["latency_ms"] = values[ctx.config.objectives.index("latency")]
    # Final metrics and the model's link in one commit: readers never see one without the other.
    lease.record(summary)
    write_note(lease, config, n_params, summary)
    return values
