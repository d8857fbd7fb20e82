"""The training loop: (config, data, device, callbacks) -> per-epoch metrics.

Plain PyTorch. It does not import Optuna, so it is testable alone and reused by the worker,
export and retrain. Callbacks see each finished epoch; they stop training by raising (the
worker's pruning callback raises ``optuna.TrialPruned``, which passes through untouched).
Besides metrics, a run keeps diagnostics (:mod:`hpo.training.diagnostics`): the first epoch's
per-layer gradient norms and the train/validation loss curves.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import torch
import torch.nn.functional as F
from torch import nn

from hpo import optim
from hpo.data.splits import Split, Splits
from hpo.models import build_model
from hpo.training import precision as precisions
from hpo.training import simulate
from hpo.training.augment import get_augment
from hpo.training.budget import TimeBudget, TimedSchedule
from hpo.training.config import TrainConfig
from hpo.training.diagnostics import GRAD_NORMS, LOSS_CURVES, GradNormMeter, loss_curves
from hpo.training.metrics import classification_metrics
from hpo.training.precision import Precision
from hpo.training.schedules import make_schedule

EVAL_BATCH = 2048  # inference needs no activations for backward, so batches can be large


class NonFiniteLoss(Exception):
    """The training loss became NaN or infinite; the run cannot recover."""


@dataclass
class TrainState:
    """Everything needed to continue a run after its last finished epoch."""

    model: nn.Module
    optimizer: torch.optim.Optimizer
    scheduler: Any
    phase: int  # index of the optimizer phase (combinations switch optimizers)
    epoch: int = 0  # number of finished epochs
    history: list[dict[str, float | None]] = field(default_factory=list)
    generator: torch.Generator = field(default_factory=torch.Generator)
    precision: Precision | None = None  # autocast dtype and memory layout; None = fp32
    scaler: torch.amp.GradScaler | None = None  # only for fp16
    grad_norms: dict[str, float] = field(default_factory=dict)  # per layer, epoch 1; empty before

    def diagnostics(self) -> dict[str, Any]:
        """JSON-able diagnostics so far: ``grad_norms_epoch1`` (once epoch 1 is done) and ``loss_curves``."""
        found: dict[str, Any] = {LOSS_CURVES: loss_curves(self.history)}
        if self.grad_norms:
            found[GRAD_NORMS] = dict(self.grad_norms)
        return found

    def state_dict(self) -> dict[str, Any]:
        """A ``torch.load(weights_only=True)``-safe snapshot: tensors, numbers, strings."""
        return {
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "scheduler": self.scheduler.state_dict() if self.scheduler is not None else None,
            "phase": self.phase,
            "epoch": self.epoch,
            "history": self.history,
            "grad_norms": self.grad_norms,
            "rng": self.generator.get_state(),
            "torch_rng": torch.get_rng_state(),
        }


class Callback(Protocol):
    def on_epoch_end(self, state: TrainState, metrics: dict[str, float | None]) -> None: ...


@dataclass(frozen=True)
class TrainResult:
    model: nn.Module
    history: list[dict[str, float | None]]  # one dict per epoch
    metrics: dict[str, float | None]  # the final validation metrics, val_ prefixed
    # JSON-able, keyed by name: "grad_norms_epoch1" {layer: norm} and "loss_curves" (see
    # hpo.training.diagnostics); meant to be stored as they are, e.g. as trial user attrs.
    diagnostics: dict[str, Any] = field(default_factory=dict)


def _build_phase(config: TrainConfig, model: nn.Module, phase: int, steps_per_epoch: int,
                 budget: TimeBudget | None = None) -> tuple[torch.optim.Optimizer, Any]:
    plan = optim.phases(config.optimizer, config.epochs)
    name, start = plan[phase]
    end = plan[phase + 1][1] if phase + 1 < len(plan) else config.epochs
    optimizer = optim.make_optimizer(name, model.parameters(), config.lr, config.weight_decay)
    if budget is not None:
        # The schedule spans the wall-clock budget (a combination's phases share one timeline).
        return optimizer, TimedSchedule(config.schedule, optimizer, budget)
    scheduler = make_schedule(config.schedule, optimizer, (end - start) * steps_per_epoch)
    return optimizer, scheduler


def _steps_per_epoch(n: int, batch_size: int) -> int:
    return max(1, n // batch_size)  # the last partial batch is dropped (stable BatchNorm)


def init_state(config: TrainConfig, splits: Splits, device: torch.device, resume: dict[str, Any] | None = None,
               budget: TimeBudget | None = None) -> TrainState:
    """A fresh state for ``config``, or the one saved in ``resume`` (see TrainState.state_dict)."""
    torch.manual_seed(config.seed)
    precision = precisions.choose(device, config.precision, config.model.get("arch"))
    model = precision.prepare_model(build_model(config.model, splits.input_shape, splits.num_classes).to(device))
    steps = _steps_per_epoch(len(splits.train), config.batch_size)
    phase = resume["phase"] if resume else 0
    optimizer, scheduler = _build_phase(config, model, phase, steps, budget)
    generator = torch.Generator().manual_seed(config.seed)
    state = TrainState(model, optimizer, scheduler, phase, generator=generator, precision=precision, scaler=precision.scaler())
    if resume:
        model.load_state_dict(resume["model"])
        optimizer.load_state_dict(resume["optimizer"])
        if scheduler is not None and resume["scheduler"] is not None:
            scheduler.load_state_dict(resume["scheduler"])
        state.epoch = int(resume["epoch"])
        state.history = list(resume["history"])
        state.grad_norms = dict(resume.get("grad_norms") or {})  # absent in snapshots made before
        generator.set_state(resume["rng"])
        torch.set_rng_state(resume["torch_rng"])
    return state


@torch.inference_mode()
def predict_logits(
    model: nn.Module, x: torch.Tensor, batch_size: int = EVAL_BATCH, precision: Precision | None = None
) -> torch.Tensor:
    """Logits for ``x`` in large batches; fp32 unless a training ``precision`` is given."""
    model.eval()
    if precision is None:
        return torch.cat([model(x[i : i + batch_size]) for i in range(0, len(x), batch_size)])
    with precision.autocast():
        return torch.cat([model(precision.prepare_input(x[i : i + batch_size])).float() for i in range(0, len(x), batch_size)])


def evaluate(model: nn.Module, split: Split, precision: Precision | None = None) -> dict[str, float | None]:
    """Loss plus classification metrics of ``model`` on ``split``."""
    logits = predict_logits(model, split.x, precision=precision)
    metrics = classification_metrics(logits, split.y)
    metrics["loss"] = float(F.cross_entropy(logits.float(), split.y))
    return metrics


def _train_epoch(state: TrainState, config: TrainConfig, train: Split, create_graph: bool,
                 meter: GradNormMeter | None = None, budget: TimeBudget | None = None) -> float:
    model, optimizer, scheduler, scaler = state.model, state.optimizer, state.scheduler, state.scaler
    precision = state.precision or precisions.choose(train.x.device, config.precision, config.model.get("arch"))
    augment = get_augment(config.augment)
    model.train()
    n = len(train)
    steps = _steps_per_epoch(n, config.batch_size)
    order = torch.randperm(n, generator=state.generator).to(train.x.device)
    total = torch.zeros((), device=train.x.device)
    done = 0
    for step in range(steps):
        if budget is not None and budget.spent():
            break  # the rate has annealed to its end: the run is over, mid-epoch or not
        idx = order[step * config.batch_size : (step + 1) * config.batch_size]
        x = precision.prepare_input(augment(train.x[idx], None))
        with precision.autocast():
            loss = F.cross_entropy(model(x), train.y[idx], label_smoothing=config.label_smoothing)
        optimizer.zero_grad(set_to_none=True)
        if scaler is None:
            loss.backward(create_graph=create_graph)
            if meter is not None:
                meter.update()
            optimizer.step()
        else:  # fp16: scale the loss so small gradients do not flush to zero
            scaler.scale(loss).backward(create_graph=create_graph)
            if meter is not None:
                scaler.unscale_(optimizer)  # true gradients; scaler.step then does not unscale again
                meter.update()
            scaler.step(optimizer)
            scaler.update()
        if scheduler is not None:
            scheduler.step()
        total += loss.detach()
        done += 1
    mean = float(total) / max(1, done)  # one device sync per epoch, not per batch
    if not math.isfinite(mean):
        raise NonFiniteLoss(f"training loss became {mean} in epoch {state.epoch + 1}")
    return mean


def train(
    config: TrainConfig,
    splits: Splits,
    device: torch.device | str = "cpu",
    callbacks: Sequence[Callback] = (),
    resume: dict[str, Any] | None = None,
    budget: TimeBudget | None = None,
) -> TrainResult:
    """Train ``config`` on ``splits.train``, evaluating on ``splits.val`` after every epoch.

    Args:
        resume: a ``TrainState.state_dict()`` from an interrupted run; training continues at
            the epoch after the one it recorded.
        budget: train until this wall-clock budget is spent instead of for ``config.epochs``
            epochs (then only an estimate, which places a combination's optimizer phases),
            the schedule following the time spent (:mod:`hpo.training.budget`); the last
            epoch stops where the budget does.
    """
    device = torch.device(device)
    state = init_state(config, splits, device, resume, budget)
    create_graph = optim.needs_create_graph(config.optimizer)
    steps = _steps_per_epoch(len(splits.train), config.batch_size)
    while (not budget.spent()) if budget is not None else state.epoch < config.epochs:
        phase, _name = optim.phase_at(config.optimizer, config.epochs, state.epoch)
        if phase != state.phase:  # a combination moves on to its next optimizer
            state.optimizer, state.scheduler = _build_phase(config, state.model, phase, steps, budget)
            state.phase = phase
        if simulate.settings(config) is not None:  # the sleep space: no compute, same flow
            train_loss, val = simulate.epoch(config, state.epoch + 1)
        else:
            # Gradient norms are measured in the first epoch only: that is where vanishing
            # gradients show, and later epochs then pay nothing for it.
            meter = GradNormMeter(state.model) if state.epoch == 0 else None
            # oneDNN's CPU convolutions abort the interpreter in a double backward on some CPUs
            # (torch 2.14.1, an AMD Zen 3: a resnet with Sophia); the native kernels do not.
            # Only then: flags() would otherwise overwrite the user's own oneDNN settings.
            with torch.backends.mkldnn.flags(enabled=False) if create_graph else contextlib.nullcontext():
                train_loss = _train_epoch(state, config, splits.train, create_graph, meter, budget)
            if meter is not None:
                state.grad_norms = meter.result()
            val = evaluate(state.model, splits.val, state.precision)
        state.epoch += 1
        metrics = {"epoch": state.epoch, "train_loss": train_loss, **{f"val_{k}": v for k, v in val.items()}}
        state.history.append(metrics)
        for callback in callbacks:
            callback.on_epoch_end(state, metrics)
    final = state.history[-1] if state.history else {}
    return TrainResult(state.model, state.history, {k: v for k, v in final.items() if k.startswith("val_")},
                       state.diagnostics())
