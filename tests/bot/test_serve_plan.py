"""`jokebot serve` start-up: which surfaces run with which settings, and why the others don't."""

import pytest

from bot.app import describe, plan_surfaces
from bot.config import load_settings


@pytest.mark.parametrize(
    ("env", "expected"),
    [
        (
            {},
            [
                "discord: off (set DISCORD_TOKEN to run it)",
                "slack: off (set SLACK_BOT_TOKEN to run it)",
                "terminal: off (never under serve; use `jokebot chat`)",
                "console: off (set CONSOLE_PORT to run it)",
            ],
        ),
        (
            {"DISCORD_TOKEN": "d", "SLACK_BOT_TOKEN": "xoxb-1", "SLACK_APP_TOKEN": "xapp-1"},
            [
                "discord: runs (DISCORD_TOKEN is set)",
                "slack: runs (Socket Mode (SLACK_APP_TOKEN is set))",
                "terminal: off (never under serve; use `jokebot chat`)",
                "console: off (set CONSOLE_PORT to run it)",
            ],
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1", "SLACK_SIGNING_SECRET": "s", "SLACK_HTTP_PORT": "8080"},
            [
                "discord: off (set DISCORD_TOKEN to run it)",
                "slack: runs (HTTP mode on port 8080 (SLACK_SIGNING_SECRET))",
                "terminal: off (never under serve; use `jokebot chat`)",
                "console: off (set CONSOLE_PORT to run it)",
            ],
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs-1", "SLACK_SIGNING_SECRET": "s"},
            [
                "discord: off (set DISCORD_TOKEN to run it)",
                "slack: runs (multi-workspace HTTP mode on port 3000 (SLACK_CLIENT_ID))",
                "terminal: off (never under serve; use `jokebot chat`)",
                "console: off (set CONSOLE_PORT to run it)",
            ],
        ),
        (
            {"SLACK_CLIENT_ID": "1.2", "SLACK_CLIENT_SECRET": "cs-1"},
            [
                "discord: off (set DISCORD_TOKEN to run it)",
                "slack: off (set SLACK_SIGNING_SECRET (multi-workspace mode))",
                "terminal: off (never under serve; use `jokebot chat`)",
                "console: off (set CONSOLE_PORT to run it)",
            ],
        ),
        (
            {"SLACK_BOT_TOKEN": "xoxb-1"},
            [
                "discord: off (set DISCORD_TOKEN to run it)",
                "slack: off (set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP))",
                "terminal: off (never under serve; use `jokebot chat`)",
                "console: off (set CONSOLE_PORT to run it)",
            ],
        ),
        (
            {"CONSOLE_PORT": "8090"},
            [
                "discord: off (set DISCORD_TOKEN to run it)",
                "slack: off (set SLACK_BOT_TOKEN to run it)",
                "terminal: off (never under serve; use `jokebot chat`)",
                "console: runs (on 127.0.0.1:8090 (CONSOLE_PORT))",
            ],
        ),
    ],
)
def test_serve_plan_names_each_surface_and_why(
    env: dict[str, str], expected: list[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in (
        "DISCORD_TOKEN",
        "SLACK_BOT_TOKEN",
        "SLACK_APP_TOKEN",
        "SLACK_SIGNING_SECRET",
        "CONSOLE_PORT",
    ):
        monkeypatch.delenv(name, raising=False)
    for key, value in env.items():
        monkeypatch.setenv(key, value)

    lines = describe(plan_surfaces(load_settings(_env_file=None)))

    assert lines == expected
    assert not any(secret in " ".join(lines) for secret in ("xoxb-1", "xapp-1", "cs-1"))
