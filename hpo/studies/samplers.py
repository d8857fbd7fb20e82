"""Samplers by name; pruners are scheduling policies (hpo.trials.scheduling, by ``--pruner`` name).

Optuna does not store the sampler or pruner in the study, so each worker rebuilds them from the
study config. Sampler seeds differ per worker (hpo.trials.WorkerIdentity.sampler_seed, from a
random token): with one shared seed, or PIDs that are equal in every container, every worker's
random start-up trials would be identical.

Defaults: TPE + ASHA. ASHA (rungs at epochs 1, 3, 9, keeping the best third) stops a poor
configuration after its first epoch instead of training it to the end, so the same compute
tries several times more configurations, and TPE (multivariate, constant liar for parallel
workers) steers them towards the good ones. benchmarks/time_to_target.py measures the choice
against report 004's plain TPE and random search (docs/benchmarks.md).

The model-based samplers (TPE, GP) and every pruner read the study through
hpo.trials.history: without the pre-created WAITING slots, and for the samplers at most
``history.DEFAULT_MAX_TRIALS`` finished trials, so a trial costs about the same at 10,000
trials as at 100 (benchmarks/study_size.py).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import optuna

from hpo.config import StudyConfig
from hpo.trials import HISTORIES, HistorySampler, make_scheduler

if TYPE_CHECKING:  # hpo.spaces imports torch; `hpo study create --help` lists SAMPLERS without it
    from hpo.spaces import SearchSpace

SamplerFactory = Callable[[StudyConfig, "SearchSpace", int | None], optuna.samplers.BaseSampler]


SAMPLERS: dict[str, SamplerFactory] = {
    # TPE is multivariate with constant_liar by default in Optuna 5: running trials count as
    # pessimistic observations, so parallel workers do not all sample the same region.
    "tpe": lambda c, s, seed: HistorySampler(optuna.samplers.TPESampler(seed=seed), HISTORIES),
    "random": lambda c, s, seed: optuna.samplers.RandomSampler(seed=seed),  # reads no trials
    # CMA-ES rebuilds its generations from every trial, and grid must see every used point:
    # neither may have its history bounded.
    "cmaes": lambda c, s, seed: optuna.samplers.CmaEsSampler(seed=seed, warn_independent_sampling=False),
    "gp": lambda c, s, seed: HistorySampler(optuna.samplers.GPSampler(seed=seed), HISTORIES),
    # Grid studies get one slot per cell with its params fixed (hpo.studies.create): the
    # sampler is never asked, and Optuna's GridSampler, whose bookkeeping races between
    # workers (cells run twice, others skipped), is not used.
    "grid": lambda c, s, seed: optuna.samplers.RandomSampler(seed=seed),
}

def make_sampler(config: StudyConfig, space: SearchSpace, seed: int | None) -> optuna.samplers.BaseSampler:
    """The study's sampler with this worker's ``seed`` (distinct per worker)."""
    return SAMPLERS[config.sampler](config, space, seed)


def make_pruner(config: StudyConfig) -> optuna.pruners.BasePruner:
    """The Optuna pruner the study's policy asks (a NopPruner for those that do not prune)."""
    return make_scheduler(config).optuna_pruner()
