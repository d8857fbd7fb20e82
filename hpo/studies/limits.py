"""Limits a study must keep, checked at `hpo study create` before anything is written.

Each guards against input that was accepted and then wasted the budget or broke later: a name
PostgreSQL cannot store (SQLite would), a budget whose slots cannot fit in memory, a grace
period that judges live trials stale, a subset larger than the data set.
"""

from __future__ import annotations

from hpo.config import StudyConfig
from hpo.data.registry import train_count
from hpo.data.splits import check_subsets
from hpo.errors import UsageError

# Optuna's study_name column is VARCHAR(512) on PostgreSQL and unbounded on SQLite; one limit
# for both, well inside, so a study can move between storages.
MAX_NAME_LENGTH = 128
# Slots are made in one transaction at create (hpo.trials.slots): 100,000 take about 40 s and
# 1.2 GB; beyond that the create runs for minutes, deaf to Ctrl-C.
MAX_TRIALS = 100_000
# A trial is stale after grace_period seconds without a heartbeat: fewer than this many beats
# in that window, and one slow commit makes a live trial look dead.
MIN_BEATS_PER_GRACE = 3


def check_name(name: str) -> None:
    if not name.strip():
        raise UsageError("the study name is empty; give a name such as fm-cnn")
    if name != name.strip():
        raise UsageError(f"study name {name!r} starts or ends with a space; remove it")
    if len(name) > MAX_NAME_LENGTH:
        raise UsageError(f"the study name is {len(name)} characters long, but may have at most "
                         f"{MAX_NAME_LENGTH}; pick a shorter name")


def check_limits(config: StudyConfig) -> None:
    """Raise a UsageError naming the first limit ``config`` breaks (the data set name is valid)."""
    if config.budget is not None and config.budget > MAX_TRIALS:
        raise UsageError(f"--trials is {config.budget}, but may be at most {MAX_TRIALS:,}; split the search "
                         "into several studies, or use --time-budget alone")
    if len(set(config.objectives)) != len(config.objectives):
        twice = sorted({o for o in config.objectives if config.objectives.count(o) > 1})
        raise UsageError(f"--objectives names {', '.join(twice)} more than once; give each objective once")
    if config.grace_period < MIN_BEATS_PER_GRACE * config.heartbeat_interval:
        raise UsageError(
            f"--grace-period is {config.grace_period}s, but must be at least {MIN_BEATS_PER_GRACE} x "
            f"--heartbeat-interval ({MIN_BEATS_PER_GRACE * config.heartbeat_interval}s): otherwise live trials "
            f"are judged stale between two heartbeats; pass --grace-period {MIN_BEATS_PER_GRACE * config.heartbeat_interval} or more"
        )
    check_subsets(config.dataset, train_count(config.dataset), config.val_fraction, config.train_subset,
                  config.val_subset)
    check_subsets(config.dataset, train_count(config.dataset), config.val_fraction, config.final_train_subset,
                  None, train_flag="--final-train-subset")
