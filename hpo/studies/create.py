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

import dataclasses
import itertools
import logging
import random
from collections.abc import Callable
from typing import Any

import optuna
import torch

from hpo import data, optim
from hpo.data.registry import canonical_name
from hpo.models import build_model
from hpo.config import MARKER, OBJECTIVES, StudyConfig
from hpo.errors import HpoError, Interrupted, UsageError, first_line, unknown_name
from hpo.trials import CLAIMS_MARKED, PROMOTE, SCHEDULERS, TrialKeys, add_waiting_slots, check_scheduler, undo_study
from hpo.spaces import SearchSpace, get_space
from hpo.studies import IF_EXISTS, unfinished
from hpo.studies.limits import check_limits, check_name
from hpo.studies.metric_names import label_objectives
from hpo.studies.samplers import SAMPLERS

log = logging.getLogger("hpo.studies")


def _fill(study: optuna.Study, config: StudyConfig, space: SearchSpace, interrupted: Callable[[], bool]) -> None:
    """Config, slots and the marker, in that order; checks for an interruption between steps."""

    def step() -> None:
        if interrupted():
            raise Interrupted(f"interrupted: study {study.study_name!r} was not created")

    unfinished.stamp(study)  # first: a create killed from here on leaves a study marked unfinished
    label_objectives(study, config.objectives)  # the dashboard shows val_accuracy, not "Objective 0"
    attrs = config.to_user_attrs()
    marker = attrs.pop(MARKER)
    for key, value in attrs.items():
        study.set_user_attr(key, value)
    study.set_user_attr(CLAIMS_MARKED, True)  # hpo's claims are marked: study.ask() takes no budget slot
    step()
    # Admission control: exactly `budget` slots, claimed atomically by workers.
    if config.warm_start:
        # Made first, so it has the smallest trial id: the first claim takes it.
        study.enqueue_trial(dict(space.defaults or {}))
    if config.sampler == "grid":
        # One slot per grid cell, its params fixed: any number of workers runs each cell
        # exactly once (GridSampler's own bookkeeping races between workers).
        # With --seeds N, every cell N times, repeat by repeat (all cells' first repeat first, so
        # a run cut short still compares every cell), each slot marked with its repeat.
        cells = grid_cells(space, config)
        repeats = [(cell, r) for r in range(config.seeds) for cell in cells]
        add_waiting_slots(study, 0, fixed_params=[cell for cell, _ in repeats],
                          user_attrs=[{TrialKeys.REPLICATE: r} for _, r in repeats] if config.seeds > 1 else None)
    elif config.budget is not None:
        add_waiting_slots(study, config.budget - int(config.warm_start))
    # else: a time budget alone; workers add slots as they need them (hpo.trials.queue).
    step()
    # The marker goes last: a worker that sees it knows the study is complete.
    study.set_user_attr(MARKER, marker)
    step()


def validate(config: StudyConfig) -> SearchSpace:
    """Check every name and number in ``config``; raise a UsageError naming the first bad one.

    Returns the study's search space.
    """
    space = get_space(config.space)
    data.validate_name(config.dataset)
    check_limits(config)
    if config.sampler not in SAMPLERS:
        raise unknown_name("sampler", config.sampler, SAMPLERS)
    if config.pruner not in SCHEDULERS:
        raise unknown_name("pruner", config.pruner, SCHEDULERS)
    for objective in config.objectives:
        if objective not in OBJECTIVES:
            raise unknown_name("objective", objective, OBJECTIVES)
    if config.budget is None and config.time_budget_s is None and config.sampler != "grid":
        raise UsageError("give a budget: --trials N, --time-budget DURATION (e.g. 30m), or both")
    if config.budget is not None and config.budget < 1:
        raise UsageError(f"--trials is {config.budget}, but must be at least 1")
    if config.time_budget_s is not None and config.time_budget_s <= 0:
        raise UsageError(f"--time-budget is {config.time_budget_s:g}s, but must be positive")
    check_scheduler(config)  # what the policy itself needs, e.g. one objective to rank by
    if not 0 <= config.final_share <= 1:
        raise UsageError(f"--final-share is {config.final_share:g}, but must be between 0 and 1")
    if config.final_share and config.time_budget_s is None:
        raise UsageError(f"--final-share {config.final_share:g} needs --time-budget "
                         "(the final run is sized by the time left, and trains until the deadline)")
    if config.final_share >= 1 and config.budget is not None:
        raise UsageError(f"--final-share {config.final_share:g} searches nothing, and --trials {config.budget} "
                         "asks for a search: leave out --trials, or give a share below 1")
    if config.final_share and len(config.objectives) > 1:
        raise UsageError(f"--final-share {config.final_share:g} trains the best trial of one objective, and "
                         f"--objectives has {len(config.objectives)}; pass one objective or --final-share 0")
    if config.final_share >= 1 and not (config.warm_start and space.defaults):
        raise UsageError(f"--final-share 1 trains the space's warm start for the whole budget, and space "
                         f"{space.name!r} has none (or --no-warm-start was given); give a share below 1 to search first")
    if config.final_patience and not 0 < config.final_share < 1:
        raise UsageError(f"--final-patience {config.final_patience:g} starts the final run sooner when the search "
                         f"stalls, and this study {'searches nothing' if config.final_share else 'has no final run'}"
                         ": give --time-budget (with --pruner promote) or --final-share below 1, or leave it out")
    if config.final_grow and not config.final_share:
        raise UsageError("--grow grows the final run's network, and this study has no final run: "
                         "give --time-budget (with --pruner promote) or --final-share")
    if config.final_train_subset is not None and not config.final_share:
        raise UsageError(f"--final-train-subset {config.final_train_subset} sets the final run's training images, and "
                         "this study has no final run: give --time-budget (with --pruner promote) or --final-share")
    if config.final_grow and not space.size_knobs:
        raise UsageError(f"--grow needs size knobs (the parameters a final run may grow), and space {space.name!r} "
                         "declares none: pass size_knobs to its SearchSpace, or leave out --grow")
    if config.epochs < 1:
        raise UsageError(f"--epochs is {config.epochs}, but must be at least 1")
    space.check_epochs(config.epochs)  # optimizer combinations need an epoch per phase
    if config.seeds < 1:
        raise UsageError(f"--seeds is {config.seeds}, but must be at least 1")
    if config.seeds > 1 and config.sampler != "grid":
        raise UsageError(f"--seeds {config.seeds} repeats a grid's cells, and --sampler is {config.sampler!r}; "
                         "pass --sampler grid, or --seeds 1")
    if config.sampler == "grid":
        cells = grid_cells(space, dataclasses.replace(config, budget=None))  # raises for spaces a grid cannot enumerate
        most = len(cells) * config.seeds
        if config.budget is not None and config.budget > most:
            raise UsageError(f"--trials is {config.budget}, but the grid of space {space.name!r} has "
                             f"{len(cells)} cells{f' x {config.seeds} seeds' if config.seeds > 1 else ''}; "
                             f"pass --trials {most} (or fewer, for a random subset)")
        if config.budget is not None and config.budget % config.seeds:
            raise UsageError(f"--trials is {config.budget}, but with --seeds {config.seeds} it must be a multiple "
                             f"of {config.seeds} (each cell runs once per seed)")
    check_builds(space, config)
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


# Input shapes for the build check below: the model is built on PyTorch's meta device, so the
# shape only has to be plausible (builders stop pooling once a map is 1 px).
_PROBE_SHAPES = {"fashion-mnist": (1, 28, 28), "mnist": (1, 28, 28), "cifar10": (3, 32, 32),
                 "cifar100": (3, 32, 32), "digits": (1, 8, 8), "synthetic": (1, 8, 8)}


def check_builds(space: SearchSpace, config: StudyConfig) -> None:
    """Build one configuration of the space (its defaults, else a sampled one) without memory.

    A space whose ``build`` names an unknown architecture, activation or optimizer would
    otherwise fail in every worker, trial after trial, after the study had taken its budget.
    """
    which = "defaults"
    params = dict(space.defaults) if space.defaults is not None else None
    if params is None:
        which = "a sampled configuration"
        probe = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=config.seed))
        params = space.suggest(probe.ask())
    shape = _PROBE_SHAPES.get(config.dataset, (3, 64, 64))
    try:
        train_config = space.build(params, config.epochs)
        optim.parts(train_config.optimizer)  # raises for an unknown optimizer
        with torch.device("meta"):
            build_model(train_config.model, shape, 10)
    except HpoError as exc:
        raise UsageError(f"space {space.name!r} cannot build its {which}: {exc}") from None
    except Exception as exc:  # the space's own code: any error means the space is broken
        raise UsageError(f"space {space.name!r} cannot build its {which} ({params}): "
                         f"{type(exc).__name__}: {first_line(exc)}; fix the space's build") from None


def config_differences(stored: dict[str, Any], config: StudyConfig) -> list[str]:
    """``"field: stored -> asked"`` for each config field that differs from the stored study's.

    ``--if-exists skip`` is for re-running the same create (compose's one-shot service);
    a different space, data set or budget under the same name would otherwise be ignored.
    """
    wanted = config.to_user_attrs()
    return [f"{key}: {stored.get(key)!r} -> {value!r}" for key, value in wanted.items()
            if key not in ("extra", MARKER) and stored.get(key) != value]


def grid_cells(space: SearchSpace, config: StudyConfig) -> list[dict[str, Any]]:
    """The grid's cells, in an order shuffled by the study's seed; ``--trials`` takes a prefix
    (of ``budget / seeds`` cells: with ``--seeds``, the budget counts every repeat)."""
    try:
        grid = space.grid()
    except ValueError as exc:
        raise UsageError(f"--sampler grid does not fit space {space.name!r}: {exc}") from None
    cells = [dict(zip(grid, values)) for values in itertools.product(*grid.values())]
    random.Random(config.seed).shuffle(cells)
    return cells[: config.budget // config.seeds] if config.budget is not None else cells


def pruner_default(time_budget_s: float | None, objectives: int, sampler: str) -> str:
    """The scheduler when ``--pruner`` is not given: on a time budget (with ``--trials`` or
    without), with one objective, the promotion scheduler, whose study ends with a final run (the
    best configuration trained to the deadline); otherwise ASHA. Measured (benchmark 6,
    docs/benchmarks.md, arms a and f): at W = 60 min on 2 CPU cores ASHA alone handed export a
    9-epoch trial (92.10 % test), the final run's model tested 94.54 %. With ``--trials`` as well,
    the run starts when the search's trials have ended, if that comes before its share of the
    time (hpo.trials.final_phase). Grid search keeps ASHA, as it has no warm start: it enumerates
    cells to compare them, and a final run would spend half its time on one cell."""
    return PROMOTE if time_budget_s is not None and objectives == 1 and sampler != "grid" else "asha"


def grow_default(space: SearchSpace, final_share: float) -> bool:
    """Grow the final run when there is one and the space declares what may grow.

    Measured (benchmark 6, docs/benchmarks.md): the warm start trained for an hour on 2 CPU
    cores, grown by the size rule, beat the same recipe at its searched size on the same machine.
    """
    return final_share > 0 and bool(space.size_knobs)


def warm_start_default(space: SearchSpace, sampler: str) -> bool:
    """Warm start unless the space has no defaults or the grid sampler enumerates the space."""
    return space.defaults is not None and sampler != "grid"


def _existing(name: str, config: StudyConfig, storage: optuna.storages.BaseStorage,
              if_exists: str) -> optuna.Study | None:
    """The study already named ``name``, for ``--if-exists skip``; None when it is an abandoned
    half-made one to replace. Raises when it may not be used."""
    if if_exists != "skip":
        existing = optuna.load_study(study_name=name, storage=storage)
        if unfinished.is_unfinished(existing.user_attrs):
            raise HpoError(unfinished.hint(name))
        raise HpoError(
            f"study {name!r} already exists; pick another name, delete it with "
            f"`hpo study delete {name} --yes`, or pass --if-exists skip"
        )
    study = unfinished.wait_while_created(name, storage)
    if study is None:
        return None
    differ = config_differences(study.user_attrs, config)
    if differ:
        raise HpoError(
            f"study {name!r} already exists with another config ({'; '.join(differ)}); "
            f"pick another name, or delete it with `hpo study delete {name} --yes`"
        )
    return study


def create(
    name: str, config: StudyConfig, storage: optuna.storages.BaseStorage, if_exists: str = "fail",
    interrupted: Callable[[], bool] = lambda: False, image_size: int | None = None,
) -> tuple[optuna.Study, bool]:
    """Create the study (or find it, with ``if_exists="skip"``). Returns (study, created).

    The study is whole or absent: if anything fails, or ``interrupted()`` turns true, while it
    is being made, it is deleted again (and Interrupted raised for the latter). ``image_size``
    (HPO_IMAGE_SIZE) is fixed into an image-folder data set's stored name.
    """
    check_name(name)
    space = validate(config)
    # Image-folder paths absolute: a worker started in another folder must find the images.
    config = dataclasses.replace(config, dataset=canonical_name(config.dataset, image_size))
    if config.sampler == "grid" and config.budget is None:
        config = dataclasses.replace(config, budget=len(grid_cells(space, config)) * config.seeds)  # the whole grid
    if if_exists not in IF_EXISTS:
        raise unknown_name("--if-exists mode", if_exists, IF_EXISTS)
    try:
        study = optuna.create_study(study_name=name, storage=storage, directions=config.directions)
    except optuna.exceptions.DuplicatedStudyError:
        existing = _existing(name, config, storage, if_exists)
        if existing is not None:
            return existing, False
        # A half-made study whose create was killed: replace it (--if-exists skip).
        log.warning("study %r was left unfinished by a `study create` that was killed; replacing it", name)
        undo_study(name, storage)
        study = optuna.create_study(study_name=name, storage=storage, directions=config.directions)
    try:
        _fill(study, config, space, interrupted)
    except BaseException:
        undo_study(name, storage)  # no half-made study, ever
        raise
    return study, True
