"""Plots of the registered activation functions, and of what the learnable ones learned.

    python -m hpo.report.activations docs/ [--study NAME]

writes docs/activations.png (every activation; learnable ones at their initial parameters)
and, given a study whose trials trained learnable activations, docs/activations_learned.png:
each learnable activation's per-channel curves and parameter values taken from the best
stored model of a trial that used it.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

import optuna
import torch
from optuna.trial import TrialState
from torch import nn

from hpo import artifacts
from hpo.checkpoint import load_checkpoint
from hpo.export.model_io import model_from_checkpoint
from hpo.models.activations import ACTIVATIONS, make_activation
from hpo.report.png import save_png
from hpo.settings import Settings
from hpo.trials import TrialKeys, load_study, open_storage


X = torch.linspace(-4, 4, 401)
MAX_CHANNEL_CURVES = 64  # per learned activation; enough to show the spread


def learnable_names() -> list[str]:
    """Registered activations that have parameters of their own."""
    return [name for name in ACTIVATIONS if any(True for _ in make_activation(name, 1).parameters())]


def _curve(module: nn.Module) -> torch.Tensor:
    with torch.no_grad():
        return module(X.view(-1, 1)).view(-1)


def plot_registered(path: Path) -> None:
    """Every registered activation on [-4, 4]; learnable ones at their initial parameters."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    learnable = set(learnable_names())
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.5), sharey=True)
    for name in ACTIVATIONS:
        ax = axes[1] if name in learnable else axes[0]
        ax.plot(X, _curve(make_activation(name, 1)), label=name)
    for ax, title in zip(axes, ("Fixed activations", "Learnable activations, at initialisation")):
        ax.set(title=title, xlabel="x", ylim=(-2, 4))
        ax.axhline(0, color="#999", lw=0.5)
        ax.axvline(0, color="#999", lw=0.5)
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    axes[0].set_ylabel("f(x)")
    save_png(axes, path)


@dataclass
class Learned:
    name: str  # activation class
    trial: int
    modules: list[nn.Module]


def _models_with_learnable(study: optuna.Study, store: object) -> list[Learned]:
    """For each learnable activation class, its modules in the best complete trial that used it."""
    names = set(learnable_names())
    classes = {type(make_activation(n, 1)) for n in names}
    complete = [t for t in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,)) if TrialKeys.MODEL in t.user_attrs]
    complete.sort(key=lambda t: t.values[0], reverse=study.directions[0] == optuna.study.StudyDirection.MAXIMIZE)
    found: dict[str, Learned] = {}
    for trial in complete:
        if not any(isinstance(v, str) and v in names for v in trial.params.values()):
            continue
        path = artifacts.download_to_temp(store, trial.user_attrs[TrialKeys.MODEL])
        try:
            model = model_from_checkpoint(load_checkpoint(str(path)), test_time=False)
        finally:
            path.unlink(missing_ok=True)
        for cls in classes:
            modules = [m for m in model.modules() if isinstance(m, cls)]
            if modules and cls.__name__ not in found:
                found[cls.__name__] = Learned(cls.__name__, trial.number, modules)
    return sorted(found.values(), key=lambda item: item.name)


def _channel_modules(module: nn.Module) -> list[nn.Module]:
    """One single-channel copy of ``module`` per channel of its parameters (up to a limit)."""
    params = {key: value.detach().reshape(-1) for key, value in module.named_parameters()}
    width = max((value.numel() for value in params.values()), default=1)
    copies = []
    for channel in range(min(width, MAX_CHANNEL_CURVES)):
        copy = make_activation(type(module), 1)
        with torch.no_grad():
            for key, target in copy.named_parameters():
                value = params[key]
                target.copy_(value[channel if value.numel() > 1 else 0].reshape(target.shape))
        copies.append(copy)
    return copies


def plot_learned(study: optuna.Study, store: object, path: Path) -> bool:
    """Learned curves and parameter histograms; False when no trial trained a learnable activation."""
    learned = _models_with_learnable(study, store)
    if not learned:
        return False
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, len(learned), figsize=(4.5 * len(learned), 7), squeeze=False)
    for column, item in enumerate(learned):
        top, bottom = axes[0][column], axes[1][column]
        initial = make_activation(type(item.modules[0]), 1)
        for module in item.modules:
            for copy in _channel_modules(module):
                top.plot(X, _curve(copy), color="#1f77b4", alpha=0.25, lw=0.8)
        top.plot(X, _curve(initial), "k--", lw=1.2, label="at initialisation")
        top.set(title=f"{item.name}, learned (trial {item.trial})", xlabel="x", ylabel="f(x)", ylim=(-2, 4))
        top.grid(alpha=0.3)
        top.legend(fontsize=8)
        for key in dict(item.modules[0].named_parameters()):
            values = torch.cat([dict(m.named_parameters())[key].detach().reshape(-1) for m in item.modules])
            bottom.hist(values.numpy(), bins=30, alpha=0.6, label=f"{key} ({values.numel()} values)")
        bottom.set(title="learned parameter values", xlabel="value", ylabel="count")
        bottom.legend(fontsize=8)
    fig.tight_layout()
    save_png(axes, path)
    return True


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path, help="folder for activations.png and activations_learned.png")
    parser.add_argument("--study", help="a study whose trials trained learnable activations")
    parser.add_argument("--storage", default=None, help="storage URL (default: HPO_STORAGE, else sqlite:///hpo.db)")
    parser.add_argument("--artifacts", default=None, help="artifact folder (default: HPO_ARTIFACTS, else the study's)")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    plot_registered(args.out / "activations.png")
    print(f"wrote {args.out / 'activations.png'}")
    if args.study:
        study = load_study(args.study, open_storage(Settings.from_env().replace(storage=args.storage).storage_url, must_exist=True))
        explicit = Settings.from_env().replace(artifacts=args.artifacts).artifacts
        store = artifacts.open_store(artifacts.study_location(study.user_attrs, explicit), create=False)
        target = args.out / "activations_learned.png"
        if plot_learned(study, store, target):
            print(f"wrote {target}")
        else:
            print(f"no complete trial of {args.study} trained a learnable activation; {target.name} not written")


if __name__ == "__main__":
    main()
