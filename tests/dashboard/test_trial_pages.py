"""Trial pages a person reads, served from each study's own artifact folder.

One real study (`hpo study create --artifacts DIR` + `hpo worker`) on scikit-learn's digits;
then `hpo dashboard`, started in another folder without `--artifacts`, over real HTTP, and a
headless Chromium that opens a trial's page and photographs its note.
"""

from __future__ import annotations

import json
import os
import signal
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import optuna
import pytest
from optuna.trial import TrialState
from optuna_dashboard import get_note

from hpo.report.browser import chromium_page, unavailable_reason
from hpo.trials.diagnostics import study_store, trial_diagnostics
from hpo.trials.records import TrialKeys
from tests.conftest import missing
from tests.dashboard.test_dashboard_browser import TIMEOUT_MS, wait_for_port
from tests.export.conftest import TINY_SPACE
from tests.helpers import free_port, run_hpo, start_hpo

EPOCHS = 3


@dataclass(frozen=True)
class Served:
    base: str
    storage: str
    study: optuna.Study
    folder: Path  # where the dashboard was started
    artifacts: Path  # the study's recorded artifact folder, elsewhere


def get(url: str) -> tuple[int, str, bytes]:
    try:
        with urllib.request.urlopen(url, timeout=60) as response:
            return response.status, response.headers.get("Content-Type", ""), response.read()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.headers.get("Content-Type", ""), exc.read()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    root = tmp_path_factory.mktemp("pages")
    storage = f"sqlite:///{root / 'hpo.db'}"
    arts = root / "elsewhere" / "arts"
    env = {"HPO_STORAGE": storage, "HPO_NUM_THREADS": "1", "HPO_ARTIFACTS": ""}
    created = run_hpo("study", "create", "pages", "--space", TINY_SPACE, "--dataset", "digits", "--trials", "2",
                      "--epochs", str(EPOCHS), "--pruner", "none", "--artifacts", str(arts), env=env)
    assert created.returncode == 0, created.stderr
    worked = run_hpo("worker", "pages", env=env)
    assert worked.returncode == 0, worked.stderr
    folder = root / "somewhere-else"
    folder.mkdir()
    port = free_port()
    before = os.getcwd()
    os.chdir(folder)  # the dashboard runs from a folder that holds no artifacts
    try:
        proc = start_hpo("dashboard", "--port", str(port), env=env, log=root / "dashboard.log")
    finally:
        os.chdir(before)
    try:
        wait_for_port(port, proc)
        yield Served(f"http://127.0.0.1:{port}", storage, optuna.load_study(study_name="pages", storage=storage),
                     folder, arts)
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=30)


def complete_trials(served: Served) -> list[optuna.trial.FrozenTrial]:
    trials = served.study.get_trials(deepcopy=False, states=(TrialState.COMPLETE,))
    assert len(trials) == 2
    return trials


def test_user_attrs_stay_short_and_curves_live_in_a_file(served: Served) -> None:
    store = study_store(served.study.user_attrs)
    for trial in complete_trials(served):
        assert TrialKeys.LOSS_CURVES not in trial.user_attrs and TrialKeys.GRAD_NORMS not in trial.user_attrs
        longest = max(len(json.dumps(v)) for v in trial.user_attrs.values())
        assert longest < 400, {k: len(json.dumps(v)) for k, v in trial.user_attrs.items()}
        found = trial_diagnostics(trial, store)
        assert found[TrialKeys.LOSS_CURVES]["epoch"] == list(range(1, EPOCHS + 1))
        assert len(found[TrialKeys.GRAD_NORMS]) == 2 + 1  # two conv layers and the classifier


def test_each_complete_trial_has_a_note_with_its_loss_plot(served: Served) -> None:
    for trial in complete_trials(served):
        note = _note_of(served, trial)
        assert f"## Trial {trial.number}" in note
        assert "**Model:** `cnn: n_layers=2" in note and "parameters" in note
        assert f"**Epochs:** {EPOCHS} of {EPOCHS}" in note
        assert f"| val_accuracy | {trial.user_attrs['val_accuracy']:.4f} |" in note
        plot = trial.user_attrs[TrialKeys.LOSS_PLOT]
        url = f"/artifacts/{served.study._study_id}/{trial._trial_id}/{plot}"
        assert f"]({url})" in note
        status, content_type, body = get(served.base + url)
        assert status == 200 and content_type == "image/png" and body[:8] == b"\x89PNG\r\n\x1a\n", (status, content_type)


def _note_of(served: Served, trial: optuna.trial.FrozenTrial) -> str:
    # get_note takes a live Trial; an optuna.Trial on the stored one reads the same note.
    return get_note(optuna.Trial(served.study, trial._trial_id))


def test_the_dashboard_serves_the_studys_recorded_folder_and_creates_none(served: Served) -> None:
    trial = complete_trials(served)[0]
    model = trial.user_attrs[TrialKeys.MODEL]
    assert (served.artifacts / model).is_file()
    status, content_type, body = get(f"{served.base}/artifacts/{served.study._study_id}/{trial._trial_id}/{model}")
    assert status == 200 and content_type == "application/octet-stream" and len(body) > 1000
    status, _, body = get(f"{served.base}/api/studies/{served.study._study_id}")
    listed = {a["artifact_id"] for t in json.loads(body)["trials"] for a in t["artifacts"]}
    assert model in listed and trial.user_attrs[TrialKeys.LOSS_PLOT] in listed
    assert not (served.folder / "artifacts").exists()


def test_unknown_ids_in_artifact_urls_are_404(served: Served) -> None:
    trial = complete_trials(served)[0]
    model, sid = trial.user_attrs[TrialKeys.MODEL], served.study._study_id
    for url in (f"/artifacts/{sid}/999999/{model}", f"/artifacts/999999/{trial._trial_id}/{model}",
                f"/artifacts/999999/{model}", f"/artifacts/{sid + 1}/{trial._trial_id}/{model}"):
        status, _, body = get(served.base + url)
        assert status == 404, (url, status, body[:200])


@pytest.mark.browser  # headless Chromium: the full tier
def test_a_browser_shows_the_trial_page_with_its_note(served: Served, tmp_path: Path) -> None:
    if reason := unavailable_reason():
        missing(reason)
    trial = complete_trials(served)[0]
    shot = Path(os.environ.get("HPO_TEST_SCREENSHOT_DIR") or tmp_path) / "trial-note.png"
    with chromium_page(width=1400, height=1300) as page:
        page.set_default_timeout(TIMEOUT_MS)
        page.goto(f"{served.base}/dashboard/studies/{served.study._study_id}/trials")
        page.get_by_text(f"Trial {trial.number}", exact=True).filter(visible=True).first.click()
        page.get_by_text("Size:").filter(visible=True).first.wait_for()
        image = page.locator(f"img[alt='loss curves of trial {trial.number}']").first
        image.wait_for()
        image.scroll_into_view_if_needed()
        page.wait_for_function("img => img.complete && img.naturalWidth > 0", arg=image.element_handle())
        page.screenshot(path=str(shot), full_page=True)
        body = page.inner_text("body")
    assert "val_accuracy" in body and "parameters" in body
    assert shot.stat().st_size > 10_000
