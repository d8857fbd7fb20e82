"""`hpo dashboard`."""

from __future__ import annotations

import click

from hpo.cli.options import artifacts_option, current_settings, storage_option


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. The dashboard has no login: expose it beyond localhost only behind a proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@storage_option
@artifacts_option
def dashboard_cmd(host: str, port: int, storage: str | None, artifacts: str | None) -> None:
    """Serve optuna-dashboard for every study in the storage, with their stored checkpoints."""
    from hpo.dashboard.server import serve

    serve(storage, artifacts, host, port, threads=current_settings().dashboard_threads)


COMMANDS = [dashboard_cmd]
