"""Optimizers by name, from torch and pytorch-optimizer, and their sequential combinations."""

from hpo.optim.registry import (
    COMBINATIONS,
    OPTIMIZERS,
    OptimizerEntry,
    default_lr,
    make_optimizer,
    needs_create_graph,
    optimizer_names,
    parts,
    phase_at,
    phases,
    register_optimizer,
)

__all__ = [
    "COMBINATIONS",
    "OPTIMIZERS",
    "OptimizerEntry",
    "default_lr",
    "make_optimizer",
    "needs_create_graph",
    "optimizer_names",
    "parts",
    "phase_at",
    "phases",
    "register_optimizer",
]
