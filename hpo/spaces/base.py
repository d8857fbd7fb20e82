"""What a search space is: declared parameters plus a function from parameters to a run.

Parameters are declared with Optuna distributions, so ``hpo spaces`` can list them with
their ranges, ``--sampler grid`` can enumerate them, and conditional parameters (the block
type only for ResNet) are explicit.

Example, a whole space in a few lines::

    from optuna.distributions import CategoricalDistribution as C, FloatDistribution as F
    from hpo.spaces import Param, SearchSpace
    from hpo.training import TrainConfig

    SPACE = SearchSpace(
        name="tiny",
        description="How wide should an MLP be?",
        params=(Param("width", C([64, 256])), Param("lr", F(1e-4, 1e-1, log=True))),
        build=lambda p, epochs: TrainConfig(model={"arch": "mlp", "hidden": [p["width"]]},
                                            lr=p["lr"], epochs=epochs),
    )
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import optuna
from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from hpo.errors import UsageError
from hpo.spaces.sizing import SizeKnob
from hpo.training.config import TrainConfig


@dataclass(frozen=True)
class Param:
    """One searched parameter. ``when`` makes it conditional on the parameters before it."""

    name: str
    distribution: BaseDistribution
    when: Callable[[dict[str, Any]], bool] | None = None
    condition: str = ""  # how ``when`` reads, for listings: "arch == resnet"

    def describe(self) -> str:
        d = self.distribution
        if isinstance(d, CategoricalDistribution):
            text = "{" + ", ".join(str(c) for c in d.choices) + "}"
        elif isinstance(d, (IntDistribution, FloatDistribution)):
            scale = " log" if d.log else ""
            step = f" step {d.step}" if d.step not in (None, 1) else ""
            text = f"[{d.low}, {d.high}]{scale}{step}"
        else:
            text = repr(d)
        return text + (f"  if {self.condition}" if self.condition else "")

    def only_if(self, name: str, *values: Any) -> Param:
        """This parameter, searched only when the earlier parameter ``name`` is one of ``values``.

        Example: ``Param("block", CategoricalDistribution(["basic", "wide"])).only_if("arch", "resnet")``.
        """
        allowed = tuple(values)
        shown = " or ".join(f"{name} == {v}" for v in allowed)
        return dataclasses.replace(self, when=lambda p: p.get(name) in allowed, condition=shown)

    def grid_values(self) -> list[Any]:
        d = self.distribution
        if isinstance(d, CategoricalDistribution):
            return list(d.choices)
        if isinstance(d, IntDistribution) and not d.log:
            return list(range(d.low, d.high + 1, d.step))
        raise ValueError(
            f"parameter {self.name!r} is {self.describe()}, which a grid cannot enumerate; "
            "use categorical or linear int parameters for --sampler grid"
        )


def suggest(trial: optuna.Trial, param: Param) -> Any:
    d = param.distribution
    if isinstance(d, CategoricalDistribution):
        return trial.suggest_categorical(param.name, d.choices)
    if isinstance(d, IntDistribution):
        return trial.suggest_int(param.name, d.low, d.high, step=d.step, log=d.log)
    if isinstance(d, FloatDistribution):
        return trial.suggest_float(param.name, d.low, d.high, step=d.step, log=d.log)
    raise TypeError(f"parameter {param.name!r} has an unsupported distribution {d!r}")


def _contains(distribution: BaseDistribution, value: Any) -> bool:
    """Whether ``value`` is a point of ``distribution``, from its public fields only."""
    if isinstance(distribution, CategoricalDistribution):
        return any(value == choice and type(value) is type(choice) for choice in distribution.choices)
    if isinstance(distribution, (IntDistribution, FloatDistribution)):
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            return False
        if isinstance(distribution, IntDistribution) and value != int(value):
            return False
        if not distribution.low <= value <= distribution.high:
            return False
        step = distribution.step
        return step is None or abs((value - distribution.low) / step - round((value - distribution.low) / step)) < 1e-8
    return False


@dataclass(frozen=True)
class SearchSpace:
    """A named question, answered by searching ``params``.

    Args:
        build: ``(params, epochs) -> TrainConfig``. It must be pure: export and retrain call
            it again with a trial's recorded params to rebuild the same run.
        default_epochs: epochs per trial when the study does not say.
        defaults: a textbook configuration of ``params`` (every active parameter, nothing
            else), chosen from common practice rather than tuned. With it, ``hpo study create``
            queues it as the study's first trial (warm start): users get the baseline's result
            as trial 0, and the sampler starts from a good point (Ray Tune's
            ``points_to_evaluate``, Vizier's default-first). Checked when the space is built.
        size_knobs: the parameters that set the model's size, with the values a long final
            run may grow them to, most worth growing first: the first climbs as far as the
            time allows, then the next (:mod:`hpo.spaces.sizing`); none: it trains at the
            size found.
    """

    name: str
    description: str
    params: tuple[Param, ...]
    build: Callable[[dict[str, Any], int], TrainConfig]
    default_epochs: int = 5
    defaults: Mapping[str, Any] | None = field(default=None, hash=False)
    source: str = field(default="", compare=False)
    size_knobs: tuple[SizeKnob, ...] = ()

    def __post_init__(self) -> None:
        names = {p.name for p in self.params}
        for knob in self.size_knobs:
            if knob.param not in names:
                raise UsageError(f"size knob {knob.param!r} of space {self.name!r} is not one of its parameters")
        if self.defaults is not None:
            try:
                self.validate(dict(self.defaults))
            except UsageError as exc:
                raise UsageError(f"defaults of space {self.name!r}: {exc}") from None

    def suggest(self, trial: optuna.Trial) -> dict[str, Any]:
        """Ask the trial for every parameter whose condition holds, in declaration order."""
        values: dict[str, Any] = {}
        for param in self.params:
            if param.when is None or param.when(values):
                values[param.name] = suggest(trial, param)
        return values

    def validate(self, values: dict[str, Any]) -> dict[str, Any]:
        """``values`` checked as a trial's params: every active parameter present and in range.

        Raises:
            UsageError: a missing, unknown or out-of-range parameter (the message lists them).
        """
        active: dict[str, Any] = {}
        for param in self.params:
            if param.when is not None and not param.when(active):
                continue
            if param.name not in values:
                raise UsageError(f"space {self.name!r} needs parameter {param.name!r}: {param.describe()}")
            if not _contains(param.distribution, values[param.name]):
                raise UsageError(
                    f"parameter {param.name!r} is {values[param.name]!r}, outside {param.describe()}"
                )
            active[param.name] = values[param.name]
        unknown = sorted(set(values) - set(active))
        if unknown:
            raise UsageError(
                f"space {self.name!r} does not use parameter(s) {', '.join(unknown)} with these values; "
                f"it takes: {', '.join(p.name for p in self.params)}"
            )
        return active

    def check_epochs(self, epochs: int) -> None:
        """Raise before any trial runs if a searched optimizer combination cannot fit ``epochs``.

        A combination such as sgd+adam+radam trains one phase per optimizer, so it needs at
        least as many epochs as it has optimizers.
        """
        from hpo import optim

        for param in self.params:
            if param.name == "optimizer" and isinstance(param.distribution, CategoricalDistribution):
                for choice in param.distribution.choices:
                    if isinstance(choice, str):
                        optim.phases(choice, epochs)

    def grid(self) -> dict[str, list[Any]]:
        """The full grid, for ``optuna.samplers.GridSampler``; conditions are ignored."""
        return {p.name: p.grid_values() for p in self.params}

    def summary(self) -> str:
        return self.description.strip().splitlines()[0] if self.description.strip() else ""
