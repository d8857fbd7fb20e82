"""The ``hpo`` command line. Each command group lives in its own module here.

A command's module is imported only when that command runs (click's lazy-group pattern), and
those modules import torch only where a command computes with it: a usage error, `hpo study
list` or a missing study then answers in about half a second instead of two, without loading
torch (tests/cli/test_lazy_commands.py holds that line).
"""

from __future__ import annotations

import importlib
import logging
import sys
from typing import Any

import click

from hpo import __version__
from hpo.errors import HpoError, Interrupted, UsageError
from hpo.settings import Settings


# Command name -> "module:attribute". A new command is a module here plus its line below.
COMMANDS: dict[str, str] = {
    "blocks": "hpo.cli.catalog:blocks_cmd",
    "dashboard": "hpo.cli.dashboard:dashboard_cmd",
    "datasets": "hpo.cli.catalog:datasets_cmd",
    "evaluate": "hpo.cli.evaluate:evaluate_cmd",
    "export": "hpo.cli.export:export_cmd",
    "model-summary": "hpo.cli.model_summary:model_summary_cmd",
    "predict": "hpo.cli.predict:predict_cmd",
    "report": "hpo.cli.report:report_cmd",
    "retrain": "hpo.cli.retrain:retrain_cmd",
    "spaces": "hpo.cli.catalog:spaces_cmd",
    "study": "hpo.cli.study:study_group",
    "worker": "hpo.cli.worker:worker_cmd",
}


def load_command(name: str) -> click.Command:
    """The command ``name`` of COMMANDS, its module imported now."""
    module, attribute = COMMANDS[name].split(":")
    command = getattr(importlib.import_module(module), attribute)
    if not isinstance(command, click.Command) or command.name != name:  # a stale line in COMMANDS
        raise RuntimeError(f"COMMANDS[{name!r}] = {COMMANDS[name]!r} is not the click command {name!r}")
    return command


class HpoGroup(click.Group):
    """Loads each command when it runs, and turns every expected failure into one line on
    stderr and its exit code; no traceback."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*COMMANDS, *super().list_commands(ctx)})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            return load_command(cmd_name)
        return super().get_command(ctx, cmd_name)

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

