"""A real browser for tests: Debian's Chromium driven by Playwright (no browser download).

Without ``/usr/bin/chromium`` a browser test is skipped with the reason shown, except under
``CI=true``, where it fails (``.ci/run`` installs the package first).
"""

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest
from playwright.async_api import Browser, async_playwright

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
