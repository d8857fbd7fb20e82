"""Options shared by several commands."""

from __future__ import annotations

import os

import click

from hpo.errors import HpoError, UsageError
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


def check_out(path: str, flag: str, folder: bool = False) -> None:
    """Refuse an output path this user cannot write (or, for a file, one that names a folder)
    before anything is read or trained: a traceback after a retrain would waste it."""
    if not folder and (path.endswith(("/", os.sep)) or os.path.isdir(path)):
        raise UsageError(f"{flag} {path!r} is a folder; give a file name, e.g. "
                         f"{os.path.join(path, 'best.onnx' if flag == '--onnx' else 'best.pt')}")
    parent = os.path.abspath(path) if folder else os.path.dirname(os.path.abspath(path))
    while not os.path.exists(parent):  # missing folders are made; the nearest existing one must be writable
        parent = os.path.dirname(parent)
    if not os.path.isdir(parent) or not os.access(parent, os.W_OK | os.X_OK):
        raise HpoError(f"cannot write {flag} {path}: folder {parent} is not writable for this user; "
                       "choose another path")
