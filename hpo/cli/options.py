"""Options shared by several commands."""

from __future__ import annotations

import click

from hpo.settings import Settings

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
    help="Artifact store (folder or s3://BUCKET) for checkpoints (env HPO_ARTIFACTS). Default: the one "
         "the study recorded at create time (study create: ./artifacts, made absolute).",
)


def current_settings(**flags: object) -> Settings:
    """The process's settings: ``HPO_*`` parsed once per command, then the given flags over them.

    Flags that were not given (None) keep the environment's value.
    """
    root = click.get_current_context().find_root()
    if not isinstance(root.obj, Settings):
        root.obj = Settings.from_env()
    return root.obj.replace(**flags)
