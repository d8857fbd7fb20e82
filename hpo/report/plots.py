"""The report's plots, each drawn twice from the same data: plotly for HTML, matplotlib for PNG.

Optuna's own plots do most of the work (optuna.visualization and its matplotlib twin take the
same arguments). The learning curves are ours, because optuna's intermediate-values plot does
not tell pruned trials from complete ones. A plot that cannot be drawn (too few trials, a
single-objective study's Pareto front) gives a one-line note instead of a figure.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import optuna

from hpo.report.data import ReportData, importance_target

# State -> (colour, line style) of a learning curve; pruned trials also end in an "x".
CURVE_STYLE = {
    "COMPLETE": ("#1f77b4", "solid"),
    "PRUNED": ("#ff7f0e", "dash"),
    "FAIL": ("#d62728", "dot"),
    "RUNNING": ("#7f7f7f", "dot"),
    "WAITING": ("#7f7f7f", "dot"),
}
_MPL_DASH = {"solid": "-", "dash": "--", "dot": ":"}


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
    ax.xaxis.get_major_locator().set_params(integer=True)
    ax.grid(alpha=0.3)
    ax.legend()
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
    Plot("param_importances", "Hyperparameter importances", _optuna_plot("plot_param_importances"), _need_importances),
    Plot("parallel_coordinate", "Parallel coordinates", _optuna_plot("plot_parallel_coordinate"), _need_complete(2)),
    Plot("slice", "Slice plots", _optuna_plot("plot_slice"), _need_complete(1)),
    Plot("pareto_front", "Pareto front", _optuna_plot("plot_pareto_front"), _need_pareto),
]
