"""Fixtures shared across the test packages."""

import os

import pytest


@pytest.fixture
def no_slack_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove every SLACK_* variable, so no setting from the shell reaches a Slack test."""
    for name in list(os.environ):
        if name.startswith("SLACK_"):
            monkeypatch.delenv(name)
