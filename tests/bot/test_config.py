"""Settings: defaults, env precedence, clear ConfigError messages, platform requirements."""

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from bot.config import Settings, load_settings, require_discord, require_slack
from bot.errors import ConfigError


def test_settings_defaults() -> None:
    settings = Settings(_env_file=None)

    assert settings.openai_model == "gpt-4o-mini"
    assert settings.llm_provider == "auto"
    assert settings.llm_timeout == 20.0
    assert settings.database_url == "sqlite:///jokebot.db"
    assert settings.review_timeout_s == 86400
    assert (settings.max_attempts, settings.topic_max_len, settings.joke_max_len) == (5, 100, 300)
    assert settings.cooldown_s == 30
    assert settings.log_level == "INFO"
    assert settings.discord_token is None
    assert settings.openai_api_key is None
    assert settings.openai_base_url is None


def test_settings_read_conventional_env_names(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DISCORD_TOKEN", "discord-secret")
    monkeypatch.setenv("SLACK_BOT_TOKEN", "xoxb-secret")
    monkeypatch.setenv("OPENAI_BASE_URL", "http://localhost:11434/v1/")
    monkeypatch.setenv("REVIEW_TIMEOUT_S", "60")
    monkeypatch.setenv("LOG_LEVEL", "debug")
    monkeypatch.setenv("LLM_PROVIDER", "OpenAI")

    settings = load_settings(_env_file=None)

    assert settings.discord_token is not None
    assert settings.discord_token.get_secret_value() == "discord-secret"
    assert settings.slack_bot_token is not None
    assert settings.slack_bot_token.get_secret_value() == "xoxb-secret"
    assert settings.openai_base_url == "http://localhost:11434/v1"
    assert settings.review_timeout_s == 60
    assert settings.log_level == "DEBUG"
    assert settings.llm_provider == "openai"


def test_env_beats_env_file_and_blank_means_unset(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    env_file = tmp_path / ".env"
    env_file.write_text("OPENAI_MODEL=from-file\nMAX_ATTEMPTS=7\nOPENAI_BASE_URL=\nCOOLDOWN_S=\n")
    monkeypatch.setenv("OPENAI_MODEL", "from-env")

    settings = load_settings(_env_file=env_file)

    assert settings.openai_model == "from-env"
    assert settings.max_attempts == 7
    assert settings.openai_base_url is None
    assert settings.cooldown_s == 30


def test_secrets_never_in_repr() -> None:
    settings = Settings(
        _env_file=None,
        discord_token=SecretStr("discord-secret"),
        slack_signing_secret=SecretStr("signing-secret"),
        openai_api_key=SecretStr("sk-secret"),
        database_url="postgresql://bot:db-secret@db/jokes",
    )

    text = repr(settings) + str(settings)

    for secret in ("discord-secret", "signing-secret", "sk-secret", "db-secret"):
        assert secret not in text


def test_settings_are_frozen() -> None:
    settings = Settings(_env_file=None)

    with pytest.raises(ValidationError):
        settings.max_attempts = 9  # type: ignore[misc]


def test_moderator_ids_split_on_commas() -> None:
    settings = Settings(_env_file=None, slack_moderators=" U1, U2 ,,U3 ")

    assert settings.slack_moderator_ids == ("U1", "U2", "U3")


@pytest.mark.parametrize(
    ("env", "value", "message"),
    [
        ("REVIEW_TIMEOUT_S", "abc", "REVIEW_TIMEOUT_S must be a number of seconds > 0, got 'abc'"),
        ("REVIEW_TIMEOUT_S", "0", "REVIEW_TIMEOUT_S must be a number of seconds > 0, got '0'"),
        ("LLM_TIMEOUT", "-1", "LLM_TIMEOUT must be a number of seconds > 0, got '-1'"),
        ("COOLDOWN_S", "-5", "COOLDOWN_S must be a number of seconds >= 0, got '-5'"),
        ("MAX_ATTEMPTS", "2.5", "MAX_ATTEMPTS must be a whole number >= 1, got '2.5'"),
        ("JOKE_MAX_LEN", "0", "JOKE_MAX_LEN must be a whole number >= 1, got '0'"),
        ("LLM_PROVIDER", "gpt", "LLM_PROVIDER must be one of auto, openai, embedded, got 'gpt'"),
        ("LOG_LEVEL", "loud", "LOG_LEVEL must be one of DEBUG, INFO, WARNING, ERROR, CRITICAL"),
        ("OPENAI_BASE_URL", "localhost:11434", "OPENAI_BASE_URL must be an http:// or https://"),
        ("DISCORD_SHARD_COUNT", "0", "DISCORD_SHARD_COUNT must be a whole number >= 1, got '0'"),
        (
            "DISCORD_SHARDS_PER_PROCESS",
            "-1",
            "DISCORD_SHARDS_PER_PROCESS must be a whole number >= 0 (0: as many as are free)",
        ),
        ("DISCORD_SHARD_LEASE_S", "1", "DISCORD_SHARD_LEASE_S must be a number of seconds >= 3"),
    ],
)
def test_load_settings_names_the_bad_setting(
    monkeypatch: pytest.MonkeyPatch, env: str, value: str, message: str
) -> None:
    monkeypatch.setenv(env, value)

    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)

    assert message in str(info.value)
    assert str(info.value).endswith("(see .env.example)")
    assert info.value.__cause__ is None  # one message, no pydantic traceback attached


def test_load_settings_reports_every_problem_in_one_message(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("MAX_ATTEMPTS", "many")
    monkeypatch.setenv("COOLDOWN_S", "soon")

    with pytest.raises(ConfigError) as info:
        load_settings(_env_file=None)

    assert "MAX_ATTEMPTS" in str(info.value)
    assert "COOLDOWN_S" in str(info.value)


def test_load_settings_accepts_overrides() -> None:
    settings = load_settings(_env_file=None, max_attempts=3)

    assert settings.max_attempts == 3


def test_require_discord_names_the_token() -> None:
    with pytest.raises(ConfigError, match=r"Discord: set DISCORD_TOKEN .*\.env\.example"):
        require_discord(Settings(_env_file=None))

    require_discord(Settings(_env_file=None, discord_token=SecretStr("t")))


@pytest.mark.parametrize(
    ("http", "given", "missing"),
    [
        (False, {}, "SLACK_BOT_TOKEN and SLACK_APP_TOKEN"),
        (False, {"slack_bot_token": "xoxb"}, "set SLACK_APP_TOKEN "),
        (False, {"slack_bot_token": "xoxb", "slack_signing_secret": "s"}, "set SLACK_APP_TOKEN "),
        (True, {}, "SLACK_BOT_TOKEN and SLACK_SIGNING_SECRET"),
        (True, {"slack_bot_token": "xoxb", "slack_app_token": "xapp"}, "set SLACK_SIGNING_SECRET "),
        (True, {"slack_signing_secret": "s"}, "set SLACK_BOT_TOKEN "),
    ],
)
def test_require_slack_names_every_missing_setting(
    http: bool, given: dict[str, str], missing: str
) -> None:
    settings = Settings(_env_file=None, **given)  # type: ignore[arg-type]

    with pytest.raises(ConfigError, match="Slack") as info:
        require_slack(settings, http=http)

    assert missing in str(info.value)


@pytest.mark.parametrize(
    ("http", "given"),
    [
        (False, {"slack_bot_token": "xoxb", "slack_app_token": "xapp"}),
        (True, {"slack_bot_token": "xoxb", "slack_signing_secret": "s"}),
    ],
)
def test_require_slack_passes_when_complete(http: bool, given: dict[str, str]) -> None:
    require_slack(Settings(_env_file=None, **given), http=http)  # type: ignore[arg-type]


def test_env_example_lists_every_setting() -> None:
    example = Path(__file__).parents[2] / ".env.example"
    names = {
        line.split("=", 1)[0]
        for line in example.read_text().splitlines()
        if line and not line.startswith("#")
    }

    assert names == {name.upper() for name in Settings.model_fields}
