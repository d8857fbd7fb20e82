"""Serving optuna-dashboard over the configured storage and artifact store.

optuna-dashboard has no authentication and does have write endpoints, so the default host is
127.0.0.1. gunicorn serves it when installed (``pip install hpo[serve]``); otherwise the
dashboard's own wsgiref server, which is fine for one user. hpo.dashboard.middleware sits in
front of it: each study's files come from the store it recorded (hpo.dashboard.stores), only
files the artifact store still holds are listed, unknown ids answer 404, ``.pt`` files are served as
``application/octet-stream``, and objectives carry their metric names.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, make_server

from hpo import artifacts
from hpo.dashboard.middleware import DashboardFixes
from hpo.dashboard.stores import RoutedStore, StudyStores
from hpo.trials import mask_url, open_storage, resolve_url

log = logging.getLogger("hpo.dashboard")


def make_app(storage_url: str | None, artifact_location: str | None, must_exist: bool = False) -> Any:
    """The dashboard's WSGI app; opening the storage first also creates its schema.

    ``artifact_location`` (``--artifacts`` / ``HPO_ARTIFACTS``) serves every study from one
    store; None serves each study from the store it recorded at create time. ``must_exist``:
    an SQLite file that is not there is an error (StorageMissing), not a new empty file.
    """
    from optuna_dashboard import wsgi

    artifacts.register_mimetypes()  # the dashboard's own uploads guess types by suffix
    storage = open_storage(storage_url, must_exist=must_exist)
    stores = StudyStores(storage, artifact_location)
    return DashboardFixes(wsgi(storage, artifact_store=RoutedStore(stores)), storage, stores)


def _gunicorn_available() -> bool:
    try:
        import gunicorn  # noqa: F401
    except ImportError:
        return False
    return True


def serve(storage_url: str | None, artifact_location: str | None, host: str, port: int, workers: int = 1,
          threads: int = 4) -> None:
    """Serve until stopped; ``threads`` per process (HPO_DASHBOARD_THREADS, from hpo.settings)."""
    url = resolve_url(storage_url)
    # A dashboard started in the wrong folder must not leave an empty hpo.db behind (issue 27).
    app = make_app(url, artifact_location, must_exist=True)
    log.info("dashboard for %s at http://%s:%d/", mask_url(url), host, port)
    if _gunicorn_available():
        from gunicorn.app.base import BaseApplication

        class _Server(BaseApplication):
            def load_config(self) -> None:
                self.cfg.set("bind", f"{host}:{port}")
                self.cfg.set("workers", workers)
                self.cfg.set("threads", threads)
                self.cfg.set("worker_class", "gthread")
                self.cfg.set("accesslog", None)

            def load(self) -> Any:
                return app

        _Server().run()
    else:
        with make_server(host, port, app) as server:
            server.serve_forever()


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the base class's name
        """Stay silent: a screenshot's dozens of requests are noise in a report's log."""


@contextmanager
def serve_in_background(storage_url: str | None, artifact_location: str | None) -> Iterator[str]:
    """Serve the dashboard from a thread of this process on a free localhost port.

    Yields the base URL (``http://127.0.0.1:PORT``); the server stops on exit. For screenshots
    and tests, not for users: it is single-threaded.
    """
    app = make_app(storage_url, artifact_location)
    with make_server("127.0.0.1", 0, app, handler_class=_QuietHandler) as server:
        thread = threading.Thread(target=server.serve_forever, name="hpo-dashboard", daemon=True)
        thread.start()
        try:
            yield f"http://127.0.0.1:{server.server_port}"
        finally:
            server.shutdown()
            thread.join()
