"""The optimizer registry, including the sequential combinations from report 000.

A name is one optimizer ("adam") or several joined by "+" ("sgd+adam+radam"). A combination
runs its optimizers one after another over equal shares of the epochs; the weights carry
over, each optimizer starts with fresh state.

Each entry has a ``default_lr``, used when a run's learning rate is ``None``. Rates are not
comparable across optimizers (Sophia clips each step to lr·p, SGD wants 10x Adam's rate), so a
space that compares optimizers without tuning the rate, or a combination whose phases need
different rates, passes ``lr=None``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass

import torch

from hpo.errors import UsageError, unknown_name

Params = Iterable[torch.nn.Parameter]


@dataclass(frozen=True)
class OptimizerEntry:
    make: Callable[[Params, float, float], torch.optim.Optimizer]  # (params, lr, weight_decay)
    default_lr: float = 1e-3
    # Sophia-style optimizers estimate the Hessian from the gradient graph, so backward()
    # must run with create_graph=True.
    needs_create_graph: bool = False


def _pytorch_optimizer(name: str) -> Callable[[Params, float, float], torch.optim.Optimizer]:
    def make(params: Params, lr: float, weight_decay: float) -> torch.optim.Optimizer:
        import pytorch_optimizer  # imported lazily: a heavy package most trials never need

        cls = getattr(pytorch_optimizer, name)
        return cls(params, lr=lr, weight_decay=weight_decay)

    return make


OPTIMIZERS: dict[str, OptimizerEntry] = {
    "sgd": OptimizerEntry(
        lambda p, lr, wd: torch.optim.SGD(p, lr=lr, momentum=0.9, nesterov=True, weight_decay=wd),
        default_lr=1e-2,
    ),
    "adam": OptimizerEntry(lambda p, lr, wd: torch.optim.Adam(p, lr=lr, weight_decay=wd)),
    "adamw": OptimizerEntry(lambda p, lr, wd: torch.optim.AdamW(p, lr=lr, weight_decay=wd)),
    "radam": OptimizerEntry(lambda p, lr, wd: torch.optim.RAdam(p, lr=lr, weight_decay=wd)),
    "nadam": OptimizerEntry(lambda p, lr, wd: torch.optim.NAdam(p, lr=lr, weight_decay=wd)),
    "adamax": OptimizerEntry(lambda p, lr, wd: torch.optim.Adamax(p, lr=lr, weight_decay=wd), default_lr=2e-3),
    "rmsprop": OptimizerEntry(lambda p, lr, wd: torch.optim.RMSprop(p, lr=lr, weight_decay=wd)),
    "adagrad": OptimizerEntry(lambda p, lr, wd: torch.optim.Adagrad(p, lr=lr, weight_decay=wd), default_lr=1e-2),
    # SophiaH (Liu et al. 2023, Hutchinson Hessian estimate); its steps are clipped to lr·1e-2,
    # hence the package's large default rate.
    "sophia": OptimizerEntry(_pytorch_optimizer("SophiaH"), default_lr=6e-2, needs_create_graph=True),
    "lamb": OptimizerEntry(_pytorch_optimizer("Lamb")),
}

# The combinations studied in report 000; any "a+b" of registered names also works.
COMBINATIONS = ("sgd+adam", "adamw+radam", "sgd+adam+radam")


def register_optimizer(name: str, entry: OptimizerEntry) -> None:
    if name in OPTIMIZERS or "+" in name:
        raise ValueError(f"optimizer name {name!r} is taken or contains '+'")
    OPTIMIZERS[name] = entry


def optimizer_names(with_combinations: bool = True) -> list[str]:
    return [*OPTIMIZERS, *(COMBINATIONS if with_combinations else ())]


def parts(name: str) -> list[str]:
    """The single optimizers of ``name``, validated."""
    names = name.split("+")
    for part in names:
        if part not in OPTIMIZERS:
            raise unknown_name("optimizer", part, optimizer_names())
    return names


def phases(name: str, epochs: int) -> list[tuple[str, int]]:
    """``(optimizer, first epoch)`` for each phase of ``name`` over ``epochs`` epochs."""
    names = parts(name)
    if len(names) > epochs:
        raise UsageError(
            f"optimizer {name!r} has {len(names)} phases but the run has only {epochs} epochs; "
            f"use at least {len(names)} epochs"
        )
    return [(part, (i * epochs) // len(names)) for i, part in enumerate(names)]


def phase_at(name: str, epochs: int, epoch: int) -> tuple[int, str]:
    """The (index, optimizer) that trains epoch ``epoch`` (0-based)."""
    current = (0, parts(name)[0])
    for i, (part, start) in enumerate(phases(name, epochs)):
        if epoch >= start:
            current = (i, part)
    return current


def default_lr(name: str) -> float:
    """The recommended rate of a single optimizer."""
    (single,) = parts(name)
    return OPTIMIZERS[single].default_lr


def make_optimizer(name: str, params: Params, lr: float | None, weight_decay: float) -> torch.optim.Optimizer:
    """A single optimizer over ``params``; ``lr=None`` means its ``default_lr``."""
    (single,) = parts(name)
    entry = OPTIMIZERS[single]
    return entry.make(params, entry.default_lr if lr is None else lr, weight_decay)


def needs_create_graph(name: str) -> bool:
    return any(OPTIMIZERS[p].needs_create_graph for p in parts(name))
