"""`hpo predict MODEL IMAGE...`."""

from __future__ import annotations

import json

import click

from hpo.formatting import table


@click.command("predict")
@click.argument("model_file", metavar="MODEL", type=click.Path(dir_okay=False))
@click.argument("images", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--top", type=click.IntRange(min=1), default=3, show_default=True, help="Classes listed per image.")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def predict_cmd(model_file: str, images: tuple[str, ...], top: int, as_json: bool) -> None:
    """Classify IMAGES with an exported MODEL (.pt checkpoint or .onnx file).

    Images are converted to the model's channels and size and normalized as in training.
    """
    from hpo.export.classifier import load_classifier
    from hpo.export.predict import predict_files

    predictions = predict_files(load_classifier(model_file), images, top)
    if as_json:
        click.echo(json.dumps([{"image": p.path, "class": p.label, "probability": p.probability,
                                "top": [{"class": c, "probability": v} for c, v in p.top]} for p in predictions], indent=2))
        return
    rows = [[p.path, p.label, f"{p.probability:.4f}", ", ".join(f"{c} {v:.3f}" for c, v in p.top[1:])] for p in predictions]
    click.echo(table(["image", "class", "probability", "next most likely"], rows))
