"""`hpo spaces`, `hpo blocks` and `hpo datasets`: what can be searched, from what, on what."""

from __future__ import annotations

import inspect
import json
from typing import Any

import click

# The registries below import torch: each command imports what it lists when it runs, so that
# `hpo --help`, which loads every command, does not.


@click.command("spaces")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def spaces_cmd(as_json: bool) -> None:
    """List search spaces with their parameters and ranges."""
    from hpo.spaces import all_spaces

    spaces = all_spaces()
    if as_json:
        click.echo(json.dumps({n: {"question": s.summary(), "default_epochs": s.default_epochs,
                                   "params": {p.name: p.describe() for p in s.params}} for n, s in spaces.items()}, indent=2))
        return
    for name, space in sorted(spaces.items()):
        click.echo(f"{name}: {space.summary()}  (default {space.default_epochs} epochs)")
        for param in space.params:
            click.echo(f"    {param.name:<16} {param.describe()}")


def blocks() -> dict[str, dict[str, str]]:
    """Every registry a space combines, each entry with a one-line description."""
    from hpo import models, optim
    from hpo.models.activations import ACTIVATIONS, ALIASES, make_activation
    from hpo.models.registry import ARCHITECTURES
    from hpo.training.augment import AUGMENTATIONS
    from hpo.training.schedules import SCHEDULES

    def keywords(builder: Any) -> str:
        params = inspect.signature(builder).parameters.values()
        return ", ".join(f"{p.name}={p.default!r}" for p in params if p.kind is p.KEYWORD_ONLY)

    def learnable(name: str) -> str:
        sizes = {p.numel() for p in make_activation(name, num_channels=3).parameters()}
        return "learnable, per channel" if 3 in sizes else "learnable" if sizes else ""

    aliases = {target: name for name, target in ALIASES.items()}
    return {
        "architectures": {name: keywords(builder) for name, builder in ARCHITECTURES.items()},
        "activations": {
            name: ", ".join(filter(None, [learnable(name), f"alias {aliases[name]}" if name in aliases else ""]))
            for name in ACTIVATIONS
        },
        "optimizers": {
            name: (f"default lr {optim.default_lr(name):g}" if "+" not in name else "phases: " + " -> ".join(optim.parts(name)))
            + (", needs create_graph" if optim.needs_create_graph(name) else "")
            for name in optim.optimizer_names()
        },
        "conv types": {name: "" for name in models.conv_names()},
        "pooling types": {name: "" for name in models.pooling_names()},
        "attention types": {name: "" for name in models.attention_names()},
        "schedules": {name: "" for name in SCHEDULES},
        "augmentations": {name: "" for name in AUGMENTATIONS},
    }


@click.command("blocks")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def blocks_cmd(as_json: bool) -> None:
    """List the building blocks spaces combine: architectures, activations, optimizers, ..."""
    found = blocks()
    if as_json:
        click.echo(json.dumps(found, indent=2))
        return
    for kind, named in found.items():
        click.echo(f"{kind}:")
        for name, text in named.items():
            click.echo(f"    {name:<20} {text}".rstrip())


@click.command("datasets")
def datasets_cmd() -> None:
    """List data sets and whether each is available on this machine."""
    from hpo.data.registry import entries

    for entry in entries():
        status = "available" if entry.available() else "missing"
        click.echo(f"{entry.name:<14} {status:<10} {entry.description}")
    click.echo(f"{'imagefolder:PATH':<14} {'-':<10} your own images, one sub-folder per class")
