"""A real browser for tests: Debian's Chromium driven by Playwright (no browser download).

Without ``/usr/bin/chromium`` a browser test is skipped with the reason shown, except under
``CI=true``, where it fails (``.ci/run`` installs the package first).
"""

import os
import tempfile
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

# The screenshots in docs/console/ are refreshed by ``JOKEBOT_SCREENSHOTS=1 make pytest``; an
# ordinary run still takes them (a page that fails to render fails the test) but keeps them out
# of the working tree.
DOCS_SHOTS = Path(__file__).resolve().parents[2] / "docs" / "console"
SHOTS = (
    DOCS_SHOTS
    if os.environ.get("JOKEBOT_SCREENSHOTS")
    else Path(tempfile.gettempdir()) / "jokebot-console-shots"
)
SHOTS.mkdir(parents=True, exist_ok=True)

CHROMIUM = Path("/usr/bin/chromium")


def require_chromium() -> Path:
    """The browser's path; skip (fail under CI=true) the calling test when it is missing."""
    if not CHROMIUM.exists():
        reason = f"no Chromium at {CHROMIUM}: apt-get install -y chromium to run browser tests"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    return CHROMIUM


@asynccontextmanager
async def chromium() -> AsyncIterator[Browser]:
    """A headless Chromium, closed afterwards (``--no-sandbox``: the tests run as root)."""
    path = require_chromium()
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path=str(path), args=["--no-sandbox"])
        try:
            yield browser
        finally:
            await browser.close()
