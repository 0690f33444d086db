"""Fixtures for tests/bot: a clean environment so no real setting leaks into a test."""

import os

import pytest

from bot.config import Settings

_PREFIXES = ("DISCORD_", "SLACK_", "OPENAI_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove DISCORD_*, SLACK_*, OPENAI_* and jokebot's own settings from the environment."""
    own = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.startswith(_PREFIXES) or name in own:
            monkeypatch.delenv(name)
