"""Shared fixtures: real SQLite files, real PostgreSQL databases, real `hpo` processes.

PostgreSQL comes from HPO_TEST_PG_URL, else the server at 127.0.0.1:5432 (user postgres).
Each test gets a database of its own, dropped afterwards. Tests that stop or restart a
server use :class:`PgCluster`, a throwaway cluster of their own. Without PostgreSQL these
tests skip locally and fail under CI=true.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests import launcher

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")
PG_BASE_URL = os.environ.get("HPO_TEST_PG_URL", "postgresql+psycopg2://postgres@127.0.0.1:5432/postgres")
PG_BIN = Path(os.environ.get("HPO_TEST_PG_BIN", "/usr/lib/postgresql/15/bin"))


def missing(reason: str) -> None:
    """Skip locally; under CI a missing dependency is a failure, not a skip."""
    if IN_CI:
        pytest.fail(f"{reason} (required under CI=true)")
    pytest.skip(reason)


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One HPO_DATA_DIR for the test run, so Fashion-MNIST is unpacked once.

    An HPO_DATA_DIR set before the run that already holds Fashion-MNIST is used as it is:
    that is how a machine without Debian's package (the GPU machine of
    scripts/device_check.sh) hands the tests its copy, which they only read.
    Under pytest-xdist each process has a base folder of its own inside the run's; the data
    folder goes beside them, shared (hpo unpacks by atomic rename, so processes that unpack at
    once are safe).
    """
    outer = os.environ.get("HPO_DATA_DIR")
    if outer and (Path(outer) / "FashionMNIST" / "raw").is_dir():
        return Path(outer)
    base = tmp_path_factory.getbasetemp()
    if os.environ.get("PYTEST_XDIST_WORKER"):
        base = base.parent
    folder = base / "data"
    folder.mkdir(exist_ok=True)
    return folder


@pytest.fixture(autouse=True)
def one_thread() -> Iterator[None]:
    """One intra-op torch thread in the test process, as HPO_NUM_THREADS=1 gives the workers:
    on tiny tensors a second thread only adds hand-off cost, and on a busy 2-core machine that
    cost grew gradcheck from 1 s to 50 s."""
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(autouse=True)
def hpo_env(tmp_path: Path, data_dir: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test runs in its own folder with its own default SQLite file and artifacts."""
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HPO_DATA_DIR", str(data_dir))
    monkeypatch.delenv("HPO_STORAGE", raising=False)
    monkeypatch.delenv("HPO_ARTIFACTS", raising=False)
    monkeypatch.setenv("HPO_NUM_THREADS", "1")
    # The host's registry of live workers: each test's workers count only each other.
    monkeypatch.setenv("HPO_WORKER_REGISTRY", str(tmp_path / "workers"))
    return tmp_path


def _psycopg_connect(url: str):  # noqa: ANN202
    import psycopg2
    from sqlalchemy.engine import make_url

    u = make_url(url)
    return psycopg2.connect(host=u.host, port=u.port or 5432, user=u.username, password=u.password,
                            dbname=u.database or "postgres", connect_timeout=5)


@pytest.fixture(scope="session")
def pg_server() -> str:
    """The base URL of a reachable PostgreSQL server."""
    try:
        _psycopg_connect(PG_BASE_URL).close()
    except Exception as exc:  # any failure means: no server to test against
        missing(f"no PostgreSQL at {PG_BASE_URL}: {str(exc).strip().splitlines()[0]}")
    return PG_BASE_URL


def _create_database(base_url: str) -> str:
    from sqlalchemy.engine import make_url

    name = f"hpo_test_{uuid.uuid4().hex[:12]}"
    conn = _psycopg_connect(base_url)
    conn.autocommit = True
    conn.cursor().execute(f'CREATE DATABASE "{name}"')
    conn.close()
    return make_url(base_url).set(database=name).render_as_string(hide_password=False)


def _drop_database(base_url: str, url: str) -> None:
    from sqlalchemy.engine import make_url

    name = make_url(url).database
    conn = _psycopg_connect(base_url)
    conn.autocommit = True
    conn.cursor().execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    conn.close()


@pytest.fixture
def pg_url(pg_server: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test."""
    url = _create_database(pg_server)
    yield url
    _drop_database(pg_server, url)


@pytest.fixture(params=["sqlite", "postgres"])
def storage_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Every storage mode the service supports, each real."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hpo.db'}"
    return request.getfixturevalue("pg_url")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PgCluster:
    """A throwaway PostgreSQL cluster (initdb + pg_ctl) that a test may stop and start."""

    def __init__(self, root: Path) -> None:
        self.root, self.port = root, free_port()
        self.data = root / "data"
        subprocess.run([str(PG_BIN / "initdb"), "-D", str(self.data), "-U", "postgres", "--auth=trust", "-E", "UTF8"],
                       check=True, capture_output=True, **self._as_postgres())
        self.start()
        self.url = _create_database(f"postgresql+psycopg2://postgres@127.0.0.1:{self.port}/postgres")

    def _as_postgres(self) -> dict:
        # initdb and postgres refuse to run as root: run them as the postgres user.
        if os.geteuid() != 0:
            return {}
        import pwd

        pw = pwd.getpwnam("postgres")
        shutil.chown(self.root, pw.pw_uid, pw.pw_gid)
        for path in self.root.rglob("*"):
            shutil.chown(path, pw.pw_uid, pw.pw_gid)
        return {"user": pw.pw_uid, "group": pw.pw_gid}

    def _ctl(self, *args: str) -> None:
        subprocess.run([str(PG_BIN / "pg_ctl"), "-D", str(self.data), "-w", "-t", "60", *args],
                       check=True, capture_output=True, **self._as_postgres())

    def start(self) -> None:
        opts = f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
        self._ctl("-o", opts, "-l", str(self.root / "log"), "start")

    def stop(self) -> None:
        self._ctl("-m", "fast", "stop")


@pytest.fixture
def pg_cluster() -> Iterator[PgCluster]:
    if not (PG_BIN / "initdb").exists():
        missing(f"no PostgreSQL binaries in {PG_BIN}")
    # Not under pytest's tmp folder: that is private to root, and the server runs as postgres.
    root = Path(tempfile.mkdtemp(prefix="hpo-pg-"))
    try:
        cluster = PgCluster(root)
        yield cluster
        try:
            cluster.stop()
        except subprocess.CalledProcessError:
            pass
    finally:
        shutil.rmtree(root, ignore_errors=True)


def hpo_cmd(*args: str) -> list[str]:
    return [sys.executable, "-m", "hpo", *args]


def run_hpo(*args: str, env: dict[str, str] | None = None, timeout: float = 600,
            fork: bool = True) -> subprocess.CompletedProcess[str]:
    """Run the real `hpo` command line in a subprocess: forked from the test launcher, which has
    imported torch once (tests/launcher.py), unless ``fork`` is False."""
    if fork and launcher.forkable(env or {}):
        return launcher.run(list(args), {**os.environ, **(env or {})}, timeout)
    return subprocess.run(hpo_cmd(*args), capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def start_hpo(*args: str, env: dict[str, str] | None = None, log: Path | None = None,
              fork: bool = True) -> subprocess.Popen[str]:
    """``hpo ARGS`` in the background, in its own session. A worker is forked from the test
    launcher, which has imported torch once (tests/launcher.py), unless ``fork`` is False."""
    if fork and args[:1] == ("worker",) and launcher.forkable(env or {}):
        return launcher.start(list(args), {**os.environ, **(env or {})}, log)  # type: ignore[return-value]
    out = open(log, "w") if log else subprocess.DEVNULL  # noqa: SIM115
    return subprocess.Popen(hpo_cmd(*args), stdout=out, stderr=subprocess.STDOUT, text=True,
                            env={**os.environ, **(env or {})}, start_new_session=True)


def wait_all(procs: list[subprocess.Popen[str]], timeout: float = 600) -> list[int]:
    deadline = time.monotonic() + timeout
    codes = []
    for proc in procs:
        try:
            codes.append(proc.wait(timeout=max(1, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            codes.append(-9)
    return codes


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The longest tests first: the first file that drives Docker, then the other `slow` ones,
    then the other Docker files, then the rest.

    The xdist processes share out whole files (``--dist loadfile``) in this order
    (scripts/test.sh turns off xdist's own reordering, which puts the files with the most tests
    first). The compose stack's test takes about 3 minutes; started last, it was the full tier's
    tail, with one process idle beside it. The other Docker file waits for the first one's image
    build (tests/deploy/test_compose_stack.py, ``Stack.build``), which from a cold cache takes
    minutes: after the slow tests, it finds the images built. The many short tests at the end
    even out the two.
    """
    docker = [item.path for item in items if item.get_closest_marker("docker")]

    def weight(item: pytest.Item) -> float:
        if item.get_closest_marker("docker"):
            return 0 if item.path == docker[0] else 1.5
        return 1 if item.get_closest_marker("slow") else 2

    items.sort(key=weight)  # stable: each group keeps the collection's order
