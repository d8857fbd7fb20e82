"""Creating a study: validate everything, then make a plain Optuna study holding its budget.

The budget is enforced by admission, not by counting afterwards: the study is created with
exactly ``budget`` WAITING trials, and workers only ever claim WAITING trials (see
hpo.trials.queue). So N workers can never start more than the budget, which Optuna's
MaxTrialsCallback cannot promise. A trial that dies is re-queued as one WAITING retry.

Warm start: when the space declares ``defaults``, the first slot (the oldest WAITING trial,
which workers claim first) carries them as Optuna fixed params, as ``study.enqueue_trial``
makes it; the other ``budget - 1`` slots are plain. So trial 0 is the textbook baseline and
the budget stays exact.
"""

from __future__ import annotations

import optuna

from hpo import data
from hpo.config import MARKER, OBJECTIVES, StudyConfig
from hpo.errors import HpoError, UsageError, unknown_name
from hpo.trials.slots import add_waiting_slots
from hpo.spaces import SearchSpace, get_space
from hpo.studies.samplers import PRUNERS, SAMPLERS

IF_EXISTS = ("fail", "skip")


def validate(config: StudyConfig) -> SearchSpace:
    """Check every name and number in ``config``; raise a UsageError naming the first bad one.

    Returns the study's search space.
    """
    space = get_space(config.space)
    data.validate_name(config.dataset)
    if config.sampler not in SAMPLERS:
        raise unknown_name("sampler", config.sampler, SAMPLERS)
    if config.pruner not in PRUNERS:
        raise unknown_name("pruner", config.pruner, PRUNERS)
    for objective in config.objectives:
        if objective not in OBJECTIVES:
            raise unknown_name("objective", objective, OBJECTIVES)
    if config.budget < 1:
        raise UsageError(f"--trials is {config.budget}, but must be at least 1")
    if config.epochs < 1:
        raise UsageError(f"--epochs is {config.epochs}, but must be at least 1")
    space.check_epochs(config.epochs)  # optimizer combinations need an epoch per phase
    if config.sampler == "grid":
        try:
            space.grid()
        except ValueError as exc:
            raise UsageError(f"--sampler grid does not fit space {space.name!r}: {exc}") from None
    if config.warm_start:
        if space.defaults is None:
            raise UsageError(f"--warm-start needs defaults, and space {space.name!r} declares none; "
                             "pass --no-warm-start or add defaults=... to the space")
        if config.sampler == "grid":
            # GridSampler reads fixed_params as an enqueued trial and gives it no grid point,
            # so one grid point would be left out of the budget.
            raise UsageError("--warm-start does not work with --sampler grid (the defaults would take "
                             "the place of a grid point); pass --no-warm-start")
    return space


def warm_start_default(space: SearchSpace, sampler: str) -> bool:
    """Warm start unless the space has no defaults or the grid sampler enumerates the space."""
    return space.defaults is not None and sampler != "grid"


def create(
    name: str, config: StudyConfig, storage: optuna.storages.BaseStorage, if_exists: str = "fail"
) -> tuple[optuna.Study, bool]:
    """Create the study (or find it, with ``if_exists="skip"``). Returns (study, created)."""
    space = validate(config)
    if if_exists not in IF_EXISTS:
        raise unknown_name("--if-exists mode", if_exists, IF_EXISTS)
    try:
        study = optuna.create_study(study_name=name, storage=storage, directions=config.directions)
    except optuna.exceptions.DuplicatedStudyError:
        if if_exists == "skip":
            return optuna.load_study(study_name=name, storage=storage), False
        raise HpoError(
            f"study {name!r} already exists; pick another name, delete it with "
            f"`hpo study delete {name} --yes`, or pass --if-exists skip"
        ) from None
    attrs = config.to_user_attrs()
    marker = attrs.pop(MARKER)
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    # Admission control: exactly `budget` slots, claimed atomically by workers.
    if config.warm_start:
        # Made first, so it has the smallest trial id: the first claim takes it.
        study.enqueue_trial(dict(space.defaults or {}))
    add_waiting_slots(study, config.budget - int(config.warm_start))
    # The marker goes last: a worker that sees it knows the study is complete.
    study.set_user_attr(MARKER, marker)
    return study, True
