"""The report's plots, each drawn twice from the same data: plotly for HTML, matplotlib for PNG.

Optuna's own plots do most of the work (optuna.visualization and its matplotlib twin take the
same arguments). The learning curves are ours, because optuna's intermediate-values plot does
not tell pruned trials from complete ones; so are the train-vs-validation loss curves of the
best trials (reports 003 and 004 read overfitting and convergence from them), which Optuna
does not keep: each trial stores them in its curves file (older trials: the user attr
``loss_curves``), read through hpo.trials.diagnostics. A plot that cannot be drawn (too few trials, a single-objective
study's Pareto front) gives a one-line note instead of a figure.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from hpo.report.data import ReportData, importance_target
from hpo.trials import TrialKeys, study_store, trial_diagnostics

# State -> (colour, line style) of a learning curve; pruned trials also end in an "x".
CURVE_STYLE = {
    "COMPLETE": ("#1f77b4", "solid"),
    "PRUNED": ("#ff7f0e", "dash"),
    "FAIL": ("#d62728", "dot"),
    "RUNNING": ("#7f7f7f", "dot"),
    "WAITING": ("#7f7f7f", "dot"),
}
_MPL_DASH = {"solid": "-", "dash": "--", "dot": ":"}
# {"epoch": [...], "train_loss": [...], "val_loss": [...]} in a trial's curves file.
LOSS_CURVES_ATTR = TrialKeys.LOSS_CURVES
LOSS_CURVE_TRIALS = 5  # the best trials drawn; more lines than this cannot be told apart
# One colour per trial (matplotlib's tab10, which plotly's default matches).
TRIAL_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f", "#bcbd22", "#17becf")


@dataclass(frozen=True)
class Plot:
    """One plot of a report: its file stem, title, and when it cannot be drawn."""

    name: str
    title: str
    draw: Callable[[optuna.Study, ReportData, str], Any]  # (study, data, backend) -> figure
    unavailable: Callable[[ReportData], str | None]


def _target_kwargs(data: ReportData) -> dict[str, Any]:
    """Multi-objective studies are plotted against their first objective."""
    kwargs: dict[str, Any] = {"target_name": data.objectives[0]}
    if data.multi_objective:
        kwargs["target"] = lambda t: t.values[0]
    return kwargs


def _optuna_plot(function: str, **fixed: Any) -> Callable[[optuna.Study, ReportData, str], Any]:
    def draw(study: optuna.Study, data: ReportData, backend: str) -> Any:
        module = optuna.visualization if backend == "plotly" else optuna.visualization.matplotlib
        kwargs = {**_target_kwargs(data), **fixed}
        if function == "plot_pareto_front":
            kwargs = {"target_names": data.objectives}
        elif function == "plot_param_importances" and data.multi_objective:
            kwargs["target"] = importance_target(study.directions)
        with warnings.catch_warnings():
            # The matplotlib twins are marked experimental; nothing for a reader to act on.
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            # matplotlib warns about axes of a parameter that took a single value; harmless.
            warnings.simplefilter("ignore", UserWarning)
            return getattr(module, function)(study, **kwargs)

    return draw


def draw_learning_curves(study: optuna.Study, data: ReportData, backend: str) -> Any:
    """Every trial's per-epoch metric; pruned trials dashed and ending in an x."""
    curves = [t for t in data.trials if t.curve]
    if backend == "plotly":
        import plotly.graph_objects as go

        fig = go.Figure()
        shown: set[str] = set()
        for t in curves:
            colour, dash = CURVE_STYLE.get(t.state, CURVE_STYLE["RUNNING"])
            steps = list(t.curve)
            symbols = ["circle"] * (len(steps) - 1) + ["x" if t.state == "PRUNED" else "circle"]
            fig.add_trace(go.Scatter(
                x=steps, y=list(t.curve.values()), mode="lines+markers", name=t.state.lower(),
                legendgroup=t.state, showlegend=t.state not in shown,
                line={"color": colour, "dash": dash}, marker={"symbol": symbols, "size": [6] * (len(steps) - 1) + [10]},
                hovertemplate=f"trial {t.number} ({t.state.lower()})<br>epoch %{{x}}: %{{y:.4f}}<extra></extra>",
            ))
            shown.add(t.state)
        fig.update_layout(title="Learning curves (x = pruned)", xaxis_title="epoch", yaxis_title=data.metric,
                          xaxis={"dtick": 1}, template="plotly_white")
        return fig
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    shown = set()
    for t in curves:
        colour, dash = CURVE_STYLE.get(t.state, CURVE_STYLE["RUNNING"])
        steps, values = list(t.curve), list(t.curve.values())
        label = None if t.state in shown else t.state.lower()
        shown.add(t.state)
        ax.plot(steps, values, _MPL_DASH[dash], color=colour, marker="o", markersize=3, label=label, alpha=0.8)
        if t.state == "PRUNED":
            ax.plot(steps[-1], values[-1], "x", color=colour, markersize=9, markeredgewidth=2)
    ax.set(title="Learning curves (x = pruned)", xlabel="epoch", ylabel=data.metric)
    _integer_ticks(ax.xaxis)
    ax.grid(alpha=0.3)
    ax.legend()
    return ax


def best_loss_curves(study: optuna.Study, data: ReportData) -> list[tuple[int, dict[str, list[Any]]]]:
    """(trial number, loss curves) of up to LOSS_CURVE_TRIALS best trials that recorded them, best first."""
    by_number = {t.number: t for t in study.get_trials(deepcopy=False)}
    store = study_store(study.user_attrs)
    found = []
    for number in data.best:
        curves = trial_diagnostics(by_number[number], store).get(LOSS_CURVES_ATTR) if number in by_number else None
        if isinstance(curves, dict) and curves.get("epoch"):
            found.append((number, curves))
        if len(found) == LOSS_CURVE_TRIALS:
            break
    return found


def draw_loss_curves(study: optuna.Study, data: ReportData, backend: str) -> Any:
    """Training (solid) against validation (dashed) loss per epoch, one colour per best trial.

    Raises:
        ValueError: no best trial recorded loss curves (the report shows why instead).
    """
    found = best_loss_curves(study, data)
    if not found:
        raise ValueError(f"none of the best trials recorded {LOSS_CURVES_ATTR!r} (trials run by hpo before it "
                         "recorded them, or an artifact folder that moved); rerun the study to see the curves")
    title = f"Train vs validation loss, best {len(found)} trial{'s' if len(found) > 1 else ''} (solid = train, dashed = validation)"
    lines = [(number, kind, curves["epoch"], curves[kind], TRIAL_COLOURS[i % len(TRIAL_COLOURS)])
             for i, (number, curves) in enumerate(found) for kind in ("train_loss", "val_loss")]
    if backend == "plotly":
        import plotly.graph_objects as go

        fig = go.Figure()
        for number, kind, epochs, values, colour in lines:
            label = "train" if kind == "train_loss" else "validation"
            fig.add_trace(go.Scatter(
                x=epochs, y=values, mode="lines+markers", name=f"trial {number} {label}", legendgroup=str(number),
                line={"color": colour, "dash": "solid" if kind == "train_loss" else "dash"},
                hovertemplate=f"trial {number} {label}<br>epoch %{{x}}: loss %{{y:.4f}}<extra></extra>",
            ))
        fig.update_layout(title=title, xaxis_title="epoch", yaxis_title="cross-entropy loss", xaxis={"dtick": 1},
                          template="plotly_white")
        return fig
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(7, 4.5))
    for number, kind, epochs, values, colour in lines:
        train = kind == "train_loss"
        # None (a non-finite loss) becomes a gap in the line.
        ys = [float("nan") if v is None else v for v in values]
        ax.plot(epochs, ys, "-" if train else "--", color=colour, marker="o", markersize=3,
                label=f"trial {number} {'train' if train else 'validation'}")
    ax.set(title=title, xlabel="epoch", ylabel="cross-entropy loss")
    ax.title.set_fontsize(9)
    _integer_ticks(ax.xaxis)
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    return ax


def _need_complete(n: int) -> Callable[[ReportData], str | None]:
    def check(data: ReportData) -> str | None:
        have = data.counts.get("complete", 0)
        return None if have >= n else f"needs at least {n} complete trial{'s' if n > 1 else ''}; the study has {have}"

    return check


def _need_curves(data: ReportData) -> str | None:
    return None if any(t.curve for t in data.trials) else "no trial has reported a per-epoch value yet"


def _need_importances(data: ReportData) -> str | None:
    return data.importance_note if data.importances is None else None


def _need_pareto(data: ReportData) -> str | None:
    if not data.multi_objective:
        return "single-objective study: there is no Pareto front"
    if len(data.objectives) > 3:
        return f"a Pareto front plot shows 2 or 3 objectives; this study has {len(data.objectives)}"
    return _need_complete(1)(data)


PLOTS: list[Plot] = [
    Plot("optimization_history", "Optimization history", _optuna_plot("plot_optimization_history"), _need_complete(1)),
    Plot("learning_curves", "Learning curves", draw_learning_curves, _need_curves),
    Plot("loss_curves", "Train vs validation loss (best trials)", draw_loss_curves, _need_complete(1)),
    Plot("param_importances", "Hyperparameter importances", _optuna_plot("plot_param_importances"), _need_importances),
    Plot("parallel_coordinate", "Parallel coordinates", _optuna_plot("plot_parallel_coordinate"), _need_complete(2)),
    Plot("slice", "Slice plots", _optuna_plot("plot_slice"), _need_complete(1)),
    Plot("pareto_front", "Pareto front", _optuna_plot("plot_pareto_front"), _need_pareto),
]


def _integer_ticks(axis: Any) -> None:
    """Epochs are whole numbers: no tick at 1.5. The default locator (AutoLocator) is a
    MaxNLocator, the kind that takes ``integer``; another locator is left as it is."""
    from matplotlib.ticker import MaxNLocator

    locator = axis.get_major_locator()
    if isinstance(locator, MaxNLocator):
        locator.set_params(integer=True)
