"""Console sign-in settings: from the environment to a SignInConfig, and clear refusals."""

import pytest

from adapters.console._identity import Role
from bot.app import signin_config
from bot.config import load_settings
from bot.errors import ConfigError

LOCAL = "http://127.0.0.1:8080"


def test_signin_settings_off_by_default() -> None:
    config = signin_config(load_settings(_env_file=None), local_url=LOCAL)

    assert (config.discord, config.slack) == (None, None)
    assert config.public_url == LOCAL
    assert (config.login_limit, config.login_window_s, config.rights_ttl_s) == (10, 60.0, 10.0)


def test_signin_settings_both_providers(monkeypatch: pytest.MonkeyPatch) -> None:
    for name, value in {
        "CONSOLE_URL": "https://jokes.example.com/",
        "CONSOLE_DISCORD_CLIENT_ID": "1100",
        "CONSOLE_DISCORD_CLIENT_SECRET": "d-secret",
        "DISCORD_GUILD_ID": "2200",
        "DISCORD_TOKEN": "bot-token",
        "CONSOLE_SLACK_CLIENT_ID": "25.11",
        "CONSOLE_SLACK_CLIENT_SECRET": "s-secret",
        "CONSOLE_SLACK_TEAM_ID": "T1",
        "SLACK_BOT_TOKEN": "xoxb-1",
        "SLACK_MODERATORS": "U1, U2",
        "SLACK_MODERATOR_GROUP": "S1",
        "CONSOLE_ADMINS": "discord:7,slack:U9",
        "CONSOLE_LOGIN_LIMIT": "3",
    }.items():
        monkeypatch.setenv(name, value)

    config = signin_config(load_settings(_env_file=None), local_url=LOCAL)

    assert config.redirect_uri("discord") == "https://jokes.example.com/login/discord/callback"
    assert config.discord is not None
    assert (config.discord.guild_id, config.discord.bot_token) == ("2200", "bot-token")
    assert config.discord.token_url == "https://discord.com/api/v10/oauth2/token"  # noqa: S105
    assert config.slack is not None
    assert config.slack.moderators == ("U1", "U2")
    assert config.slack.moderator_group == "S1"
    assert config.slack.issuer == "https://slack.com"
    assert config.allow.role("slack", "U9") is Role.ADMIN
    assert config.login_limit == 3
    assert "secret" not in repr(config)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"CONSOLE_DISCORD_CLIENT_ID": "1100"}, "CONSOLE_DISCORD_CLIENT_SECRET"),
        (
            {"CONSOLE_DISCORD_CLIENT_ID": "1", "CONSOLE_DISCORD_CLIENT_SECRET": "s"},
            "CONSOLE_DISCORD_GUILD_ID",
        ),
        ({"CONSOLE_SLACK_CLIENT_SECRET": "s"}, "CONSOLE_SLACK_CLIENT_ID"),
        ({"CONSOLE_SLACK_CLIENT_ID": "1", "CONSOLE_SLACK_CLIENT_SECRET": "s"}, "TEAM_ID"),
    ],
)
def test_signin_settings_half_configured_provider_is_refused(
    monkeypatch: pytest.MonkeyPatch, env: dict[str, str], named: str
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError, match=named):
        signin_config(load_settings(_env_file=None), local_url=LOCAL)


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("CONSOLE_ADMINS", "discord:1,github:2", "CONSOLE_ADMINS must list discord:"),
        ("CONSOLE_URL", "jokes.example.com", "CONSOLE_URL must be an http"),
        ("CONSOLE_LOGIN_LIMIT", "0", "CONSOLE_LOGIN_LIMIT must be a whole number >= 1"),
    ],
)
def test_signin_settings_invalid_values_name_the_setting(
    monkeypatch: pytest.MonkeyPatch, name: str, value: str, message: str
) -> None:
    monkeypatch.setenv(name, value)

    with pytest.raises(ConfigError, match=message):
        load_settings(_env_file=None)


def test_signin_settings_secret_values_are_redacted(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CONSOLE_DISCORD_CLIENT_SECRET", "d-secret-value")
    monkeypatch.setenv("CONSOLE_SLACK_CLIENT_SECRET", "s-secret-value")

    settings = load_settings(_env_file=None)

    assert {"d-secret-value", "s-secret-value"} <= set(settings.secret_values())
    assert "secret-value" not in repr(settings)
