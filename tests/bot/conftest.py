"""Fixtures for tests/bot: a clean environment so no real setting leaks into a test, and a
booted runtime ``Harness`` for the runtime tests.
"""

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.config import Settings
from tests.support.runtime_harness import Harness

_PREFIXES = ("DISCORD_", "SLACK_", "OPENAI_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove DISCORD_*, SLACK_*, OPENAI_* and jokebot's own settings from the environment."""
    own = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.startswith(_PREFIXES) or name in own:
            monkeypatch.delenv(name)


@pytest.fixture
async def h(tmp_path: Path) -> AsyncIterator[Harness]:
    """A booted bot over ``tmp_path / "bot.db"``; shut down (connection closed) afterwards."""
    harness = Harness(tmp_path / "bot.db")
    await harness.boot()
    try:
        yield harness
    finally:
        await harness.shutdown()
