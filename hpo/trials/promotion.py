"""Successive halving that promotes instead of stopping (asynchronous SHA, Li et al. 2018).

Optuna's pruners can only stop a trial. Here a trial trains to its rung (e.g. epochs 1, 3, 9,
27), then pauses with its checkpoint. A free worker first resumes the best paused trial that
ranks in the top 1/eta of everything that reached its rung ("promotion", from the highest
rung down), and only otherwise starts a new configuration. So no trial is judged on one
noisy epoch for good: a paused trial can still be promoted later, when more trials have
reached its rung and it turns out to rank in the top third after all.

This module is the policy alone, pure and unit tested: who is promotable, given each trial's
rung values. The queue (hpo.trials.queue) applies it when claiming; the lease pauses.

A paused trial is a WAITING Optuna trial whose ``paused_epoch`` user attr holds the rung epoch
it stopped at (a fresh budget slot has none), so the dashboard and Optuna's CLI read it as
waiting for a worker, which it is.

Learning-rate schedules run over the top rung's length (the study's ``--epochs``) from the
first epoch on, and a resumed trial restores its scheduler from the checkpoint: a trial's
rung-k value is measured on exactly the same schedule whether or not it is promoted later,
so every trial at a rung is compared on equal terms (docs/benchmarks.md discusses the cost:
lower rung values than a schedule that would end at the rung).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from hpo.errors import UsageError

PAUSED_KEY = "paused_epoch"
PROMOTE = "promote"  # the --pruner name that selects this scheduler


@dataclass(frozen=True)
class Rungs:
    """Epochs at which trials are compared; the last is the study's epochs (trials end there)."""

    epochs: tuple[int, ...]
    eta: int = 3  # the top 1/eta of a rung is promoted

    @classmethod
    def geometric(cls, max_epochs: int, eta: int = 3, min_epochs: int = 1) -> Rungs:
        """``min, min*eta, min*eta^2, ...`` below ``max_epochs``, then ``max_epochs``.

        >>> Rungs.geometric(27).epochs
        (1, 3, 9, 27)
        >>> Rungs.geometric(20).epochs
        (1, 3, 9, 20)
        """
        if eta < 2:
            raise UsageError(f"the reduction factor eta is {eta}, but must be >= 2")
        if max_epochs < 1 or min_epochs < 1:
            raise UsageError(f"rungs need epochs >= 1, not min {min_epochs} / max {max_epochs}")
        epochs, r = [], min_epochs
        while r < max_epochs:
            epochs.append(r)
            r *= eta
        return cls((*epochs, max_epochs), eta)

    @property
    def top(self) -> int:
        return self.epochs[-1]

    def is_pause_point(self, epoch: int) -> bool:
        """A rung below the top: a trial that gets here may pause."""
        return epoch in self.epochs[:-1]


@dataclass(frozen=True)
class RungRecord:
    """What the policy knows of one trial: its value at each rung it reached, and whether it
    is paused (and at which rung epoch) waiting for a promotion."""

    number: int
    values: Mapping[int, float]  # epoch -> the metric reported at that epoch
    paused_at: int | None = None


def promotable(trials: Iterable[RungRecord], rungs: Rungs, maximize: bool) -> list[int]:
    """Numbers of paused trials that may be promoted, the most deserving first.

    A trial paused at rung epoch r is promotable when it ranks in the top
    ``floor(n / eta)`` of the n trials that reached r (running, paused or finished alike).
    Higher rungs come first: finishing a good trial beats starting its competitors.
    """
    records = list(trials)
    found: list[int] = []
    for epoch in reversed(rungs.epochs[:-1]):
        reached = [t for t in records if epoch in t.values]
        quota = len(reached) // rungs.eta
        if quota == 0:
            continue
        best = sorted(reached, key=lambda t: t.values[epoch], reverse=maximize)[:quota]
        found += [t.number for t in best if t.paused_at == epoch]
    return found
