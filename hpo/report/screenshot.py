"""A screenshot of optuna-dashboard's own page for a study, taken with headless Chromium."""

from __future__ import annotations

from pathlib import Path

from hpo.dashboard.server import serve_in_background
from hpo.report.browser import chromium_page

PAGE_TIMEOUT_MS = 60_000
SETTLE_MS = 2_000  # the dashboard draws its plots after the data arrives


def dashboard_screenshot(storage_url: str, artifact_location: str | None, study_name: str, study_id: int,
                         path: Path, chromium: str | None = None) -> None:
    """Serve the dashboard in-process, open the study's page and save a PNG of the viewport.

    Raises:
        HpoError: no browser can be started here.
    """
    with serve_in_background(storage_url, artifact_location) as base, chromium_page(chromium=chromium) as page:
        page.set_default_timeout(PAGE_TIMEOUT_MS)
        page.goto(f"{base}/dashboard/studies/{study_id}")
        # The sidebar also lists studies, hidden; wait for the visible heading and plots.
        page.get_by_text(study_name).filter(visible=True).first.wait_for()
        page.get_by_text("History").filter(visible=True).first.wait_for()
        page.wait_for_timeout(SETTLE_MS)
        page.screenshot(path=str(path))
