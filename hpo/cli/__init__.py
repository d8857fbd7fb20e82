"""The ``hpo`` command line. Each command group lives in its own module here."""

from __future__ import annotations

import logging
import sys
from typing import Any

import click

from hpo import __version__
from hpo.errors import HpoError, Interrupted, UsageError
from hpo.settings import Settings


class HpoGroup(click.Group):
    """Turns every expected failure into one line on stderr and its exit code; no traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except HpoError as exc:
            click.echo(f"error: {exc}", err=True)
            sys.exit(exc.exit_code)
        except Exception as exc:
            from hpo.trials import driver_reason, is_permanent

            if not is_permanent(exc):
                raise
            # A database error waiting cannot fix (a file made read-only, a dropped database)
            # met after opening: the driver's reason, in one line.
            click.echo(f"error: the storage refused a write or read: {driver_reason(exc)}; check its "
                       "permissions and the URL (--storage or HPO_STORAGE)", err=True)
            sys.exit(1)
        except KeyboardInterrupt:
            click.echo("\nerror: interrupted", err=True)
            sys.exit(Interrupted.exit_code)


def _log_level() -> str:
    """HPO_LOG_LEVEL; INFO if any HPO_* variable is malformed (the command then reports it)."""
    try:
        return Settings.from_env().log_level
    except UsageError:
        return "INFO"


@click.group(cls=HpoGroup, context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="hpo")
def main() -> None:
    """Hyperparameter optimization for image classifiers.

    Create a study, start any number of workers on any number of machines, watch it in the
    dashboard, and export the best model. Storage: --storage, else HPO_STORAGE, else an
    embedded SQLite file ./hpo.db.
    """
    logging.basicConfig(
        level=_log_level(),
        format="%(asctime)s %(levelname)s %(message)s",
        datefmt="%H:%M:%S",
        stream=sys.stderr,
    )
    # Optuna logs every finished trial itself; ours are more useful and say which worker.
    import warnings

    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and retry callbacks are marked experimental; the warning says nothing actionable.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)


def _register() -> None:
    """Add the COMMANDS of every module in this package, so a new command is one new file."""
    import importlib
    import pkgutil

    for info in sorted(pkgutil.iter_modules(__path__), key=lambda i: i.name):
        module = importlib.import_module(f"{__name__}.{info.name}")
        for command in getattr(module, "COMMANDS", ()):
            main.add_command(command)


_register()
