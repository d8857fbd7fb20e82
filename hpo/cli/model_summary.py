"""`hpo model-summary`: the model a space builds for given params, layer by layer."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import click

from hpo.errors import UsageError

# Fashion-MNIST's, the service's default data set; shapes need no data loaded.
DEFAULT_INPUT_SHAPE = (1, 28, 28)
DEFAULT_NUM_CLASSES = 10


def _parse_params(text: str) -> dict[str, Any]:
    """JSON from the option itself, or from a file when it starts with '@'."""
    if text.startswith("@"):
        path = Path(text[1:])
        if not path.is_file():
            raise UsageError(f"--params file {str(path)!r} does not exist")
        text = path.read_text()
    try:
        params = json.loads(text)
    except json.JSONDecodeError as exc:
        raise UsageError(f"--params is not valid JSON ({exc}); example: --params '{{\"lr\": 0.001}}'") from None
    if not isinstance(params, dict):
        raise UsageError(f"--params must be a JSON object of parameter values, got {text!r}")
    return params


def _parse_shape(text: str) -> tuple[int, int, int]:
    try:
        shape: tuple[int, ...] = tuple(int(v) for v in text.split(","))
    except ValueError:
        shape = ()
    if len(shape) != 3 or min(shape) < 1:
        raise UsageError(f"--input-shape is {text!r}, but must be C,H,W with positive integers, e.g. 1,28,28")
    channels, height, width = shape
    return channels, height, width


def _data_shape(dataset: str) -> tuple[tuple[int, int, int], int]:
    from hpo.data import registry

    data = registry.load(dataset)
    return data.input_shape, data.num_classes


@click.command("model-summary")
@click.argument("space")
@click.option("--params", "params_text", required=True, metavar="JSON",
              help="The trial's params as a JSON object, or @FILE holding one.")
@click.option("--dataset", default=None, help="Take the input shape and classes from this data set (loads it).")
@click.option("--input-shape", default=None, metavar="C,H,W", help="Input shape. Default: 1,28,28 (Fashion-MNIST).")
@click.option("--num-classes", type=click.IntRange(min=2), default=None, help="Default: 10, or the data set's.")
@click.option("--depth", type=click.IntRange(min=1), default=3, show_default=True, help="How deep to list nested modules.")
def model_summary_cmd(space: str, params_text: str, dataset: str | None, input_shape: str | None,
                      num_classes: int | None, depth: int) -> None:
    """Print the layers, output shapes and parameter counts of the model SPACE builds.

    Example: hpo model-summary cnn --params '{"n_layers": 3, "kernel": 5, "optimizer": "adam", "lr": 0.001}'
    """
    import torchinfo

    from hpo.models import build_model
    from hpo.spaces import get_space

    search_space = get_space(space)
    params = search_space.validate(_parse_params(params_text))
    shape, classes = DEFAULT_INPUT_SHAPE, DEFAULT_NUM_CLASSES
    if dataset is not None:
        shape, classes = _data_shape(dataset)
    if input_shape is not None:
        shape = _parse_shape(input_shape)
    classes = num_classes or classes
    config = search_space.build(params, search_space.default_epochs)
    model = build_model(config.model, shape, classes)
    stats = torchinfo.summary(model, input_size=(1, *shape), col_names=("output_size", "num_params"),
                              depth=depth, verbose=0, row_settings=("var_names",), device="cpu")
    click.echo(f"space {search_space.name}: model {json.dumps(config.model)}")
    click.echo(f"input {'x'.join(map(str, shape))}, {classes} classes; optimizer {config.optimizer}")
    click.echo(str(stats))
