"""The best-trials tables, as rows of strings, rendered to Markdown or HTML."""

from __future__ import annotations

import html
from collections.abc import Sequence

from hpo.formatting import fmt
from hpo.config import OBJECTIVES
from hpo.report.data import ReportData

# (user attr, column header) for the metrics every hpo trial records.
METRIC_COLUMNS = [
    ("val_accuracy", "accuracy"),
    ("val_loss", "loss"),
    ("val_precision", "precision"),
    ("val_recall", "recall"),
    ("val_f1", "F1"),
    ("val_mcc", "MCC"),
    ("val_roc_auc", "ROC AUC"),
    ("n_params", "params"),
]

Table = tuple[list[str], list[list[str]]]


def seconds(value: float | None) -> str:
    if value is None:
        return "-"
    minutes, secs = divmod(round(value), 60)
    return f"{minutes}m{secs:02d}s" if minutes else f"{value:.1f}s"


def best_metrics_table(data: ReportData) -> Table:
    """Best trials with their objective values, all validation metrics, epochs and wall time."""
    # An objective read from a metric column (accuracy, params) is not shown twice.
    extra = [i for i, name in enumerate(data.objectives) if OBJECTIVES.get(name, ("", ""))[1] not in dict(METRIC_COLUMNS)]
    headers = ["trial", *(data.objectives[i] for i in extra), *(h for _, h in METRIC_COLUMNS), "epochs", "train time",
               "wall time"]
    rows = []
    for number in data.best:
        t = data.trial(number)
        values = t.values or [None] * len(data.objectives)
        rows.append([
            str(t.number),
            *(fmt(values[i]) for i in extra),
            *(fmt(t.metrics.get(key)) for key, _ in METRIC_COLUMNS),
            fmt(t.epochs),
            seconds(t.metrics.get("train_seconds")),
            seconds(t.duration_s),
        ])
    return headers, rows


def best_params_table(data: ReportData) -> Table:
    """The hyperparameters of the same trials."""
    names = sorted({name for number in data.best for name in data.trial(number).params})
    rows = [[str(n), *(fmt(data.trial(n).params.get(p)) for p in names)] for n in data.best]
    return ["trial", *names], rows


def markdown(table: Table) -> str:
    headers, rows = table
    lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(cell.replace("|", "\\|") for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def html_table(table: Table) -> str:
    headers, rows = table

    def cells(tag: str, values: Sequence[str]) -> str:
        return "".join(f"<{tag}>{html.escape(v)}</{tag}>" for v in values)

    body = "".join(f"<tr>{cells('td', row)}</tr>" for row in rows)
    return f"<table><thead><tr>{cells('th', headers)}</tr></thead><tbody>{body}</tbody></table>"


def repeats_table(data: ReportData) -> Table:
    """Each configuration that ran over several seeds: its mean with the 95 % t-interval, best first."""
    reverse = not data.directions or data.directions[0] == "maximize"
    names = sorted({name for r in data.repeats for name in r["params"]})
    rows = []
    for r in sorted(data.repeats, key=lambda r: r["mean"], reverse=reverse):
        interval = f"{fmt(r['low'])} to {fmt(r['high'])}" if r["low"] is not None else "-"
        rows.append([*(fmt(r["params"].get(p)) for p in names), str(r["n"]), fmt(r["mean"]), interval,
                     ", ".join(map(str, r["trials"]))])
    objective = data.objectives[0] if data.objectives else "value"
    return [*names, "seeds", f"mean {objective}", "95 % interval", "trials"], rows
