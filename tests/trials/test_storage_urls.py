"""A wrong storage URL is not an outage (issue 27), with real processes and real servers.

A typo fails at once, or, for a refused connection, after a short retry in commands a person
waits on; only the worker and `study create` wait out an outage, and they say so once. A
waiting worker still stops on the first SIGTERM or Ctrl-C.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from tests.badinput import one_line, snapshot
from tests.conftest import free_port, hpo_cmd, run_hpo, start_hpo

NO_WAIT = {"HPO_DB_RETRY_TIMEOUT": "3600"}  # the default hour: a case that waits it times out


def _wait_for(path: Path, text: str, timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        content = path.read_text() if path.exists() else ""
        if text in content:
            return content
        time.sleep(0.2)
    raise AssertionError(f"{text!r} not in {path}: {path.read_text()[-2000:] if path.exists() else ''}")


INTERACTIVE = {"show": ("study", "show", "core"), "delete": ("study", "delete", "core", "--yes"),
               "export": ("export", "core", "--out", "best.pt"), "retrain": ("retrain", "core"), "dashboard": ("dashboard",)}


def test_interactive_commands_retry_a_refused_connection_briefly_then_say_where(tmp_path: Path) -> None:
    # Each command waits its 10 s before it gives up: they run at once, each in a folder of its
    # own (which must stay empty), so the five waits cost one.
    port = free_port()
    url = f"postgresql+psycopg2://nobody:s3cret@127.0.0.1:{port}/none"
    running = {}
    for name, command in INTERACTIVE.items():
        (tmp_path / name).mkdir()
        running[name] = subprocess.Popen(hpo_cmd(*command, "--storage", url), cwd=tmp_path / name, text=True,
                                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, env={**os.environ, **NO_WAIT})
    for name, proc in running.items():
        out, err = proc.communicate(timeout=90)
        result = subprocess.CompletedProcess(proc.args, proc.returncode, out, err)
        line = one_line(result, 1, f"cannot reach PostgreSQL at 127.0.0.1:{port}/none: Connection refused")
        assert "s3cret" not in result.stderr + result.stdout, name
        assert "HPO_DB_RETRY_TIMEOUT)" not in result.stderr, name  # no "waiting ... up to 1h" for a person's command
        assert "waited 10s" in line, (name, line)
        assert not list((tmp_path / name).iterdir()), f"{name}: nothing may be written"


def _bad_urls(pg_server: str) -> dict[str, tuple[str, str]]:
    base = make_url(pg_server)
    return {
        "missing-database": (base.set(database="hpo_no_such_db").render_as_string(hide_password=False),
                             f"PostgreSQL at {base.host}:{base.port}/hpo_no_such_db: database \"hpo_no_such_db\" does not exist"),
        "unknown-user": (base.set(username="hpo_ghost", password="wrong").render_as_string(hide_password=False),
                         "role \"hpo_ghost\" does not exist"),
        "unknown-host": ("postgresql+psycopg2://postgres:pw@no-such-host.invalid:5432/hpo",
                         "PostgreSQL at no-such-host.invalid:5432/hpo: could not translate host name"),
    }


CREATE = ("study", "create", "s", "--space", "cnn", "--dataset", "synthetic", "--trials", "2")


@pytest.mark.parametrize(("kind", "command"), [
    ("missing-database", CREATE), ("missing-database", ("worker", "s")), ("unknown-user", ("worker", "s")),
    ("unknown-user", CREATE), ("unknown-host", ("worker", "s")), ("unknown-host", ("study", "show", "s")),
], ids=["create-missing-db", "worker-missing-db", "worker-unknown-user", "create-unknown-user",
        "worker-unknown-host", "show-unknown-host"])
def test_a_wrong_url_fails_at_once_even_where_outages_are_waited_out(kind: str, command: tuple[str, ...], pg_server: str) -> None:
    url, says = _bad_urls(pg_server)[kind]
    started = time.monotonic()
    result = run_hpo(*command, "--storage", url, env=NO_WAIT, timeout=120)
    one_line(result, 1, says)
    assert "waiting for" not in result.stderr, result.stderr
    assert time.monotonic() - started < 60  # generous: the old code waited an hour


def _waiting_worker(tmp_path: Path, *args: str) -> tuple[subprocess.Popen[str], Path, int]:
    port = free_port()
    log = tmp_path / "worker.log"
    proc = start_hpo("worker", "base", *args, "--storage", f"postgresql+psycopg2://postgres@127.0.0.1:{port}/hpo",
                     env=NO_WAIT, log=log)
    return proc, log, port


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT])
def test_a_worker_waiting_for_the_database_says_so_once_and_stops_on_the_first_signal(sig: signal.Signals, tmp_path: Path) -> None:
    proc, log, port = _waiting_worker(tmp_path)
    try:
        waiting = f"waiting for PostgreSQL at 127.0.0.1:{port}/hpo (connection refused); up to 1h (HPO_DB_RETRY_TIMEOUT)"
        _wait_for(log, waiting)
        time.sleep(4)  # a few retries in: the backoff sleeps
        proc.send_signal(sig)
        code = proc.wait(timeout=20)  # the old worker went on retrying for the hour
    finally:
        if proc.poll() is None:
            proc.kill()
    text = log.read_text()
    assert code != 0 and "Traceback" not in text, text
    assert text.count("(connection refused); up to 1h") == 1, text
    assert "error: stopped while waiting for PostgreSQL" in text, text


def test_a_worker_waiting_for_its_study_stops_on_sigterm(tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    log = tmp_path / "worker.log"
    proc = start_hpo("worker", "late", "--wait-for-study", "600", "--storage", storage, log=log)
    try:
        _wait_for(log, "waiting for study 'late'")
        proc.send_signal(signal.SIGTERM)
        code = proc.wait(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert code != 0 and "Traceback" not in log.read_text(), log.read_text()


def test_study_create_waits_out_an_outage_saying_so_once_then_names_the_cause(tmp_path: Path) -> None:
    port = free_port()
    result = run_hpo("study", "create", "s", "--space", "cnn", "--dataset", "synthetic", "--trials", "2",
                     "--storage", f"postgresql+psycopg2://postgres@127.0.0.1:{port}/hpo",
                     env={"HPO_DB_RETRY_TIMEOUT": "4"}, timeout=120)
    one_line(result, 1, f"cannot reach PostgreSQL at 127.0.0.1:{port}/hpo: Connection refused (waited 4s")
    assert result.stderr.count(f"waiting for PostgreSQL at 127.0.0.1:{port}/hpo (connection refused); "
                               "up to 4s (HPO_DB_RETRY_TIMEOUT)") == 1, result.stderr


def test_a_plain_postgresql_url_works_with_psycopg2(pg_url: str) -> None:
    plain = pg_url.replace("postgresql+psycopg2://", "postgresql://")
    created = run_hpo("study", "create", "p", "--space", "cnn", "--dataset", "synthetic", "--trials", "1",
                      "--epochs", "1", "--storage", plain)
    assert created.returncode == 0, created.stderr
    ran = run_hpo("worker", "p", "--storage", plain)
    assert ran.returncode == 0, ran.stderr
    shown = run_hpo("study", "show", "p", "--storage", plain)
    assert shown.returncode == 0 and "1 finished (1 complete" in shown.stdout, shown.stdout + shown.stderr


@pytest.mark.parametrize(("url", "code", "says"), [
    ("postgresql+asyncpg://postgres@127.0.0.1:5432/hpo", 2, "needs the database driver 'asyncpg', which is not installed"),
    ("postgresql+pg8000://postgres@127.0.0.1:5432/hpo", 2, "needs the database driver 'pg8000', which is not installed"),
    ("mysql://u@127.0.0.1/hpo", 2, "uses 'mysql'; hpo supports sqlite and postgresql"),
    ("mysql+pymysql://u@127.0.0.1/hpo", 2, "uses 'mysql'; hpo supports sqlite and postgresql"),
])
def test_other_drivers_get_one_line_and_the_accepted_schemes_agree_with_it(url: str, code: int, says: str, tmp_path: Path) -> None:
    storage = f"sqlite:///{tmp_path / 'hpo.db'}"
    for command in (("study", "list"), ("worker", "s")):
        one_line(run_hpo(*command, "--storage", url, timeout=60), code, says)
    assert not (tmp_path / "hpo.db").exists() and snapshot(storage) == []
