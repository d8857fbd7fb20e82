"""Samplers and pruners by name.

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
import optuna

from hpo.config import StudyConfig
from hpo.spaces import SearchSpace
from hpo.trials.promotion import PROMOTE
from hpo.trials.history import HISTORIES, HistoryPruner, HistorySampler

SamplerFactory = Callable[[StudyConfig, SearchSpace, int | None], optuna.samplers.BaseSampler]


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

PRUNERS: dict[str, Callable[[StudyConfig], optuna.pruners.BasePruner]] = {
    "asha": lambda c: optuna.pruners.SuccessiveHalvingPruner(min_resource=1, reduction_factor=3),
    "hyperband": lambda c: optuna.pruners.HyperbandPruner(min_resource=1, max_resource=c.epochs, reduction_factor=3),
    "median": lambda c: optuna.pruners.MedianPruner(n_startup_trials=4, n_warmup_steps=1),
    "none": lambda c: optuna.pruners.NopPruner(),
    # Successive halving that pauses and promotes (hpo.trials.promotion); run by the queue and
    # the worker, not by Optuna, whose pruners can only stop a trial.
    PROMOTE: lambda c: optuna.pruners.NopPruner(),
}


def make_sampler(config: StudyConfig, space: SearchSpace, seed: int | None) -> optuna.samplers.BaseSampler:
    """The study's sampler with this worker's ``seed`` (distinct per worker)."""
    return SAMPLERS[config.sampler](config, space, seed)


def make_pruner(config: StudyConfig) -> optuna.pruners.BasePruner:
    if len(config.objectives) > 1:
        return optuna.pruners.NopPruner()  # Optuna prunes single-objective studies only
    pruner = PRUNERS[config.pruner](config)
    return pruner if isinstance(pruner, optuna.pruners.NopPruner) else HistoryPruner(pruner, HISTORIES)
