"""`hpo spaces` and `hpo datasets`: what can be searched, on what."""

from __future__ import annotations

import json

import click

from hpo.data.registry import entries
from hpo.spaces import all_spaces


@click.command("spaces")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def spaces_cmd(as_json: bool) -> None:
    """List search spaces with their parameters and ranges."""
    spaces = all_spaces()
    if as_json:
        click.echo(json.dumps({n: {"question": s.summary(), "default_epochs": s.default_epochs,
                                   "params": {p.name: p.describe() for p in s.params}} for n, s in spaces.items()}, indent=2))
        return
    for name, space in sorted(spaces.items()):
        click.echo(f"{name}: {space.summary()}  (default {space.default_epochs} epochs)")
        for param in space.params:
            click.echo(f"    {param.name:<16} {param.describe()}")


@click.command("datasets")
def datasets_cmd() -> None:
    """List data sets and whether each is available on this machine."""
    for entry in entries():
        status = "available" if entry.available() else "missing"
        click.echo(f"{entry.name:<14} {status:<10} {entry.description}")
    click.echo(f"{'imagefolder:PATH':<14} {'-':<10} your own images, one sub-folder per class")


COMMANDS = [spaces_cmd, datasets_cmd]
