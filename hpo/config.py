"""The study configuration: everything a worker needs, kept in the study's user attrs.

A worker is started with only a study name. It reads this configuration back from the storage,
so all workers of a study, on any machine, train under the same rules.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any, Literal

import optuna

from hpo.errors import HpoError

# The user attr that marks a study as made by hpo; its value is the config schema version.
MARKER = "hpo_config_version"
CONFIG_VERSION = 1

# Objective name -> (direction, the per-epoch metric it is read from).
Direction = Literal["minimize", "maximize"]  # as optuna.create_study takes it

OBJECTIVES: dict[str, tuple[Direction, str]] = {
    "accuracy": ("maximize", "val_accuracy"),
    "loss": ("minimize", "val_loss"),
    "f1": ("maximize", "val_f1"),
    "latency": ("minimize", "latency_ms"),
    "params": ("minimize", "n_params"),
}


@dataclass(frozen=True)
class StudyConfig:
    """What a study trains and how; stored flat in the study's user attrs."""

    space: str
    dataset: str
    budget: int | None  # logical trials, each ending exactly once; None: as many as time_budget_s allows
    epochs: int
    objectives: tuple[str, ...] = ("accuracy",)
    sampler: str = "tpe"
    pruner: str = "asha"
    seed: int = 0
    batch_size: int | None = None  # overrides the space's batch size when set
    train_subset: int | None = None  # number of training images the search trains on; None = all
    val_fraction: float = 0.1  # share of the training split held out for validation
    val_subset: int | None = None
    heartbeat_interval: int = 10  # seconds between a running trial's heartbeats
    grace_period: int = 60  # seconds without a heartbeat before a trial counts as stale
    # Trial 0 trains the space's defaults (hpo.studies.create). False for studies made before.
    warm_start: bool = False
    # Wall-clock seconds for the whole study, from its first claimed trial; None: no limit.
    time_budget_s: float | None = None
    # Share of the time budget left when one worker starts the final run: the best
    # configuration so far, trained for the time left (hpo.trials.final_run); 0: none.
    final_share: float = 0.0
    # Share of the time budget after which a search with no lead beyond the noise has stalled,
    # and the final run starts sooner than final_share (hpo.trials.final_run.stalled); 0: never.
    final_patience: float = 0.0
    # The final run may grow the chosen network along the space's size knobs, to the largest
    # size whose measured pace fits its minimum epochs in the time left (hpo.spaces.sizing).
    final_grow: bool = False
    # Training images of the final run; None: all of them, whatever the search trained on.
    final_train_subset: int | None = None
    # A grid's cells each run this many times, seed by seed (TrialKeys.REPLICATE); budget counts them all.
    seeds: int = 1
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def directions(self) -> list[Direction]:
        return [OBJECTIVES[name][0] for name in self.objectives]

    def train_subset_for(self, final_run: bool) -> int | None:
        """How many training images a trial trains on (None: all of them).

        The search's trials train on ``train_subset``: a subset makes ranking configurations
        cheap. The final run trains the model a user exports, for as long as the budget allows,
        so it trains on every training image unless ``final_train_subset`` says otherwise (issue
        25: "the search ranks configurations cheaply ... maybe a subset of the training
        images"). Both validate on the same images.
        """
        return self.final_train_subset if final_run else self.train_subset

    @property
    def metric(self) -> str:
        """The per-epoch metric reported for pruning (the first objective's)."""
        return OBJECTIVES[self.objectives[0]][1]

    def to_user_attrs(self) -> dict[str, Any]:
        attrs = dataclasses.asdict(self)
        attrs["objectives"] = list(self.objectives)
        attrs["directions"] = self.directions
        attrs["metric"] = self.metric
        attrs[MARKER] = CONFIG_VERSION
        # Left out at their defaults, so a study made before the option existed reads the same
        # (``--if-exists skip``).
        for key, default in (("seeds", 1), ("final_patience", 0.0)):
            if attrs[key] == default:
                del attrs[key]
        return attrs

    @classmethod
    def from_user_attrs(cls, attrs: dict[str, Any], study_name: str) -> StudyConfig:
        if MARKER not in attrs:
            raise HpoError(
                f"study {study_name!r} was not created by hpo (no {MARKER} user attr); "
                "create it with `hpo study create`"
            )
        names = {f.name for f in dataclasses.fields(cls)}
        values = {k: v for k, v in attrs.items() if k in names}
        values["objectives"] = tuple(values.get("objectives", ("accuracy",)))
        return cls(**values)

    @classmethod
    def of(cls, study: optuna.Study) -> StudyConfig:
        return cls.from_user_attrs(study.user_attrs, study.study_name)
