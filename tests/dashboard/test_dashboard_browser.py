"""A real browser opens `hpo dashboard` and finds the study, its trials and its objective's name."""

from __future__ import annotations

import os
import signal
import socket
import time
from collections.abc import Iterator

import optuna
import pytest

from hpo.report.browser import chromium_page, unavailable_reason
from tests.conftest import missing
from tests.helpers import free_port, start_hpo
from tests.report.studies import make_study

pytestmark = pytest.mark.browser

TIMEOUT_MS = 60_000


def wait_for_port(port: int, proc, timeout: float = 120) -> None:  # noqa: ANN001
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"hpo dashboard exited with {proc.returncode}"
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.2)
    raise AssertionError(f"hpo dashboard did not listen on port {port} within {timeout}s")


@pytest.fixture
def dashboard_url(tmp_path) -> Iterator[str]:  # noqa: ANN001
    if reason := unavailable_reason():
        missing(reason)
    make_study("browser-study")
    port = free_port()
    proc = start_hpo("dashboard", "--port", str(port), log=tmp_path / "dashboard.log")
    try:
        wait_for_port(port, proc)
        yield f"http://127.0.0.1:{port}"
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def test_dashboard_shows_the_study_and_its_trials(dashboard_url: str) -> None:
    study = optuna.load_study(study_name="browser-study", storage="sqlite:///hpo.db")
    trials = study.get_trials(deepcopy=False)
    with chromium_page() as page:
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{dashboard_url}/dashboard")
        page.get_by_text("browser-study").filter(visible=True).first.wait_for()

        page.goto(f"{dashboard_url}/dashboard/studies/{study._study_id}/trials")
        page.get_by_text(f"{len(trials)} Trials").filter(visible=True).first.wait_for()
        for trial in trials:
            page.get_by_text(f"Trial {trial.number}", exact=True).filter(visible=True).first.wait_for()
        body = page.inner_text("body")
    # The objective carries its metric's name, not "Objective 0".
    assert "val_accuracy" in body and "Objective 0" not in body
    states = {"COMPLETE": "Complete", "PRUNED": "Pruned"}
    for state, label in states.items():
        expected = sum(t.state.name == state for t in trials)
        assert body.count(f"\n{label}\n") >= expected, (state, expected)
