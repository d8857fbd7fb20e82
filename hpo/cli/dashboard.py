"""`hpo dashboard`."""

from __future__ import annotations

import errno
import socket

import click

from hpo.cli.options import artifacts_option, current_settings, storage_option
from hpo.errors import HpoError, UsageError


def check_address(host: str, port: int) -> None:
    """Bind ``host:port`` once and let go, so a bad address is one line before the server
    starts (and before it prints a URL nobody can open)."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except (socket.gaierror, UnicodeError) as exc:
        raise UsageError(f"--host {host!r} is not a host name or address this machine can resolve "
                         f"({getattr(exc, 'strerror', None) or exc}); use e.g. 127.0.0.1 or 0.0.0.0") from None
    with socket.socket(family, kind, proto) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as the servers do
        try:
            probe.bind(address)
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise HpoError(f"port {port} on {host} is in use (another dashboard?); pass another --port") from None
            if exc.errno == errno.EACCES:
                raise HpoError(f"port {port} needs administrator rights on this machine; pass --port 1024 or above") from None
            raise HpoError(f"cannot listen on {host}:{port} ({exc.strerror}); pass an address of this machine "
                           "as --host, e.g. 127.0.0.1 or 0.0.0.0") from None


@click.command("dashboard")
@click.option("--host", default="127.0.0.1", show_default=True,
              help="Address to bind. The dashboard has no login: expose it beyond localhost only behind a proxy.")
@click.option("--port", type=click.IntRange(1, 65535), default=8080, show_default=True)
@storage_option
@artifacts_option
def dashboard_cmd(host: str, port: int, storage: str | None, artifacts: str | None) -> None:
    """Serve optuna-dashboard for every study in the storage, with their stored checkpoints."""
    from hpo.dashboard.server import serve

    check_address(host, port)
    serve(storage, artifacts, host, port, threads=current_settings().dashboard_threads)
