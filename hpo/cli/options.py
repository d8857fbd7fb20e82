"""Options shared by several commands."""

from __future__ import annotations

import click

storage_option = click.option(
    "--storage",
    envvar="HPO_STORAGE",
    default=None,
    metavar="URL",
    help="Storage URL (env HPO_STORAGE). Default: sqlite:///hpo.db in the current folder.",
)
artifacts_option = click.option(
    "--artifacts",
    envvar="HPO_ARTIFACTS",
    default=None,
    metavar="DIR",
    help="Artifact store folder for checkpoints (env HPO_ARTIFACTS). Default: the study's, else ./artifacts.",
)
