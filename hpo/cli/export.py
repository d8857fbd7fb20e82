"""`hpo export` and `hpo evaluate`."""

from __future__ import annotations

import json

import click

from hpo.cli.format import fmt, table
from hpo.cli.options import artifacts_option, storage_option
from hpo.export.best import export_trial, pick_trial
from hpo.export.evaluate import SPLITS, evaluate_checkpoint
from hpo.storage import load_study, open_storage


@click.command("export")
@click.argument("study")
@click.option("--out", required=True, type=click.Path(dir_okay=False), help="Where to write the checkpoint (.pt).")
@click.option("--trial", "trial_number", type=int, default=None, help="Export this trial instead of the best.")
@storage_option
@artifacts_option
def export_cmd(study: str, out: str, trial_number: int | None, storage: str | None, artifacts: str | None) -> None:
    """Write the best trial of STUDY as a self-describing checkpoint.

    Load it anywhere with `hpo.load_model(PATH)`, or `torch.load(PATH, weights_only=True)`.
    """
    loaded = load_study(study, open_storage(storage))
    trial = pick_trial(loaded, trial_number)
    meta = export_trial(loaded, trial, out, artifacts)
    val = meta["metrics"].get("val_accuracy")
    click.echo(f"exported trial {trial.number} of {study!r} to {out}")
    click.echo(f"  validation accuracy {fmt(val)}; model {meta['model']['arch']}; sha256 {meta['sha256'][:16]}...")
    click.echo(f"  test it once with: hpo evaluate {out} --split test")


@click.command("evaluate")
@click.argument("checkpoint", type=click.Path(dir_okay=False))
@click.option("--split", type=click.Choice(SPLITS), default="test", show_default=True)
@click.option("--dataset", default=None, help="Evaluate on another data set with the same image shape.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def evaluate_cmd(checkpoint: str, split: str, dataset: str | None, as_json: bool) -> None:
    """Evaluate an exported CHECKPOINT on its data set's test (or validation) split."""
    result = evaluate_checkpoint(checkpoint, dataset, split)
    if as_json:
        click.echo(json.dumps({"dataset": result.dataset, "split": split, "n": result.n, "metrics": result.metrics,
                               "confusion_matrix": result.confusion.tolist(), "classes": result.classes}, indent=2))
        return
    click.echo(f"{result.dataset} {split} split, {result.n} images")
    click.echo(table(["metric", "value"], [[k, v] for k, v in result.metrics.items()]))
    click.echo("\nconfusion matrix (rows: true class, columns: predicted)")
    short = [c[:10] for c in result.classes]
    click.echo(table(["", *short], [[short[i], *row] for i, row in enumerate(result.confusion.tolist())]))


COMMANDS = [export_cmd, evaluate_cmd]
