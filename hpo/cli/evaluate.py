"""`hpo evaluate MODEL`: an exported model's metrics on its data set's test (or validation) split."""

from __future__ import annotations

import json

import click

from hpo.export import SPLITS
from hpo.extras import require
from hpo.formatting import fmt, table


@click.command("evaluate")
@click.argument("model_file", metavar="MODEL", type=click.Path(dir_okay=False))
@click.option("--split", type=click.Choice(SPLITS), default="test", show_default=True)
@click.option("--dataset", default=None, help="Evaluate on another data set with the same image shape.")
@click.option("--plot", type=click.Path(dir_okay=False), default=None, help="Save the confusion matrix as a PNG here.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def evaluate_cmd(model_file: str, split: str, dataset: str | None, plot: str | None, as_json: bool) -> None:
    """Evaluate an exported MODEL (.pt checkpoint or .onnx file) on its data set's test (or validation) split."""
    if plot:
        require("report", "--plot", ("matplotlib",))  # before the evaluation, not after it
    from hpo.export.evaluate import evaluate_checkpoint  # torch: after the checks that need none

    result = evaluate_checkpoint(model_file, dataset, split)
    if plot:
        from hpo.export.plots import save_confusion_png

        save_confusion_png(result.confusion, result.classes, plot, f"{result.dataset} {split}: accuracy {fmt(result.metrics['accuracy'])}")
    if as_json:
        click.echo(json.dumps({"dataset": result.dataset, "split": split, "n": result.n, "metrics": result.metrics,
                               "confusion_matrix": result.confusion.tolist(), "classes": result.classes, "plot": plot}, indent=2))
        return
    click.echo(f"{result.dataset} {split} split, {result.n} images")
    click.echo(table(["metric", "value"], [[k, v] for k, v in result.metrics.items()]))
    click.echo("\nconfusion matrix (rows: true class, columns: predicted)")
    short = [c[:10] for c in result.classes]
    click.echo(table(["", *short], [[short[i], *row] for i, row in enumerate(result.confusion.tolist())]))
    if plot:
        click.echo(f"\nsaved the confusion matrix to {plot}")
