"""Headless Chromium for screenshots and browser tests, driven by Playwright.

Playwright's own browser download does not work offline, so we drive the system's Chromium
(Debian's ``chromium`` package) through ``executable_path``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from hpo.errors import HpoError

# Headless, with no background traffic and no first-run UI, in a throwaway profile.
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")


def find_chromium(explicit: str | None = None) -> str | None:
    """The Chromium binary: ``explicit`` (HPO_CHROMIUM, from hpo.settings), else the first of
    CANDIDATES that exists."""
    if explicit:
        return explicit if os.path.exists(explicit) else None
    for name in CANDIDATES:
        path = name if os.path.isabs(name) else shutil.which(name)
        if path and os.path.exists(path):
            return path
    return None


def unavailable_reason(chromium: str | None = None) -> str | None:
    """Why no browser can be started here, or None when one can."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install 'hpo[dev]')"
    if find_chromium(chromium) is None:
        return "no Chromium binary (apt-get install chromium, or set HPO_CHROMIUM)"
    return None


@contextmanager
def chromium_page(width: int = 1280, height: int = 900, chromium: str | None = None) -> Iterator[Any]:
    """A Playwright page in a fresh headless Chromium profile, closed on exit.

    Raises:
        HpoError: Playwright or Chromium is missing.
    """
    reason = unavailable_reason(chromium)
    if reason:
        raise HpoError(f"cannot start a browser: {reason}")
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="hpo-chromium-") as profile, sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            profile,
            executable_path=find_chromium(chromium),
            headless=True,
            args=CHROMIUM_ARGS,
            viewport={"width": width, "height": height},
        )
        try:
            yield context.new_page()
        finally:
            context.close()
