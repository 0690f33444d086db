"""Settings: every knob of jokebot, read once from the environment and ``.env`` by the CLI."""

from collections.abc import Mapping
from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from bot.errors import ConfigError
from bot.joke import JokeOptions

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Human wording for constrained numbers: "<ENV> must be <this>, got '<input>'".
_NUMBER_RULES = {
    "llm_timeout": "a number of seconds > 0",
    "review_timeout_s": "a number of seconds > 0",
    "cooldown_s": "a number of seconds >= 0",
    "scope_max_active": "a whole number >= 0 (0: no limit)",
    "max_attempts": "a whole number >= 1",
    "draft_concurrency": "a whole number from 1 to 1000",
    "screen_threshold": "a number above 0 and at most 1",
    "topic_max_len": "a whole number >= 1",
    "joke_max_len": "a whole number >= 1",
    "slack_http_port": "a port number from 1 to 65535",
    "health_port": "a port number from 0 (off) to 65535",
    "health_stuck_s": "a number of seconds > 0",
    "retention_days": "a number of days >= 0 (0 keeps everything)",
    "discord_shard_count": "a whole number >= 1",
    "discord_shards_per_process": "a whole number >= 0 (0: as many as are free)",
    "discord_shard_lease_s": "a number of seconds >= 3",
    "console_login_limit": "a whole number >= 1",
    "console_login_window_s": "a number of seconds > 0",
    "console_rights_ttl_s": "a number of seconds >= 0",
    "console_port": "a port number from 0 (off under serve) to 65535",
}


class Settings(BaseSettings):
    """jokebot configuration: environment first, then ``.env``, then these defaults."""

    # env_ignore_empty: a copied .env.example with blank values means "not set".
    model_config = SettingsConfigDict(
        env_file=".env", extra="ignore", frozen=True, env_ignore_empty=True
    )

    # Discord
    discord_token: SecretStr | None = None
    discord_guild_id: str | None = None  # only for `--sync` of slash commands to one guild
    # Several processes: shards 0..N-1 leased through the database (1: one plain client)
    discord_shard_count: int = Field(default=1, ge=1)
    discord_shards_per_process: int = Field(default=0, ge=0)  # 0: as many as are free
    discord_shard_lease_s: float = Field(default=30.0, ge=3)
    # Slack
    slack_bot_token: SecretStr | None = None
    slack_app_token: SecretStr | None = None  # Socket Mode
    slack_signing_secret: SecretStr | None = None  # HTTP mode
    slack_mod_channel: str = ""
    slack_public_channel: str = ""
    slack_moderators: str = ""  # comma-separated user ids
    slack_moderator_group: str = ""
    slack_http_port: int = Field(default=3000, ge=1, le=65535)  # HTTP mode under `serve`
    # Slack multi-workspace mode (the OAuth install flow): both set turn it on
    slack_client_id: str = ""
    slack_client_secret: SecretStr | None = None
    slack_oauth_redirect_url: str = ""  # https://<host>/slack/oauth_redirect
    # LLM
    openai_api_key: SecretStr | None = None
    openai_base_url: str | None = None
    openai_model: str = "gpt-4o-mini"
    llm_provider: Literal["auto", "openai", "embedded"] = "auto"
    llm_timeout: float = Field(default=20.0, gt=0)
    # Durable runtime and the joke flow
    database_url: str = Field(default="sqlite:///jokebot.db", repr=False, min_length=1)
    review_timeout_s: float = Field(default=JokeOptions.review_timeout_s, gt=0)
    max_attempts: int = Field(default=JokeOptions.max_attempts, ge=1)
    topic_max_len: int = Field(default=JokeOptions.topic_max_len, ge=1)
    joke_max_len: int = Field(default=JokeOptions.joke_max_len, ge=1)
    cooldown_s: float = Field(default=JokeOptions.cooldown_s, ge=0)
    draft_concurrency: int = Field(default=JokeOptions.concurrency, ge=1, le=1000)
    scope_max_active: int = Field(default=JokeOptions.scope_max_active, ge=0)
    screen_threshold: float = Field(default=JokeOptions.screen_threshold, gt=0, le=1)
    log_level: str = "INFO"
    log_format: Literal["text", "json"] = "text"
    # Operations: the health and metrics server of `jokebot serve`
    health_host: str = "127.0.0.1"
    health_port: int = Field(default=8081, ge=0, le=65535)  # 0: no server
    health_stuck_s: float = Field(default=600.0, gt=0)  # an effect open this long is stuck
    retention_days: float = Field(default=90.0, ge=0)  # 0: keep every finished run forever
    # Web console sign-in (Discord OAuth2, Slack OpenID Connect): docs/console-signin.md
    console_discord_client_id: str = ""
    console_discord_client_secret: SecretStr | None = None
    console_discord_guild_id: str = ""  # the server whose members may sign in
    console_slack_client_id: str = ""
    console_slack_client_secret: SecretStr | None = None
    console_slack_team_id: str = ""  # the workspace (T…) whose members may sign in
    console_admins: str = ""  # discord:<user id>,slack:<user id>,…
    console_moderators: str = ""
    console_login_limit: int = Field(default=10, ge=1)  # sign-in requests per address…
    console_login_window_s: float = Field(default=60.0, gt=0)  # …per this many seconds
    console_rights_ttl_s: float = Field(default=10.0, ge=0)  # decision-time re-check cache
    # The web console (`jokebot console`, and `jokebot serve` when CONSOLE_PORT is set)
    console_host: str = "127.0.0.1"
    console_port: int = Field(default=0, ge=0, le=65535)  # 0: not under serve; console: 8080
    console_secret: SecretStr | None = None  # signs sessions; else generated once into the file
    console_secret_file: str = "jokebot-console.secret"  # noqa: S105  # a path, not a secret
    console_url: str | None = None  # how people reach it (https:// makes cookies Secure)
    console_read_only: bool = False
    console_proxy: str = ""  # address of a reverse proxy whose X-Forwarded-* headers count
    # Test-only: point the SDKs at local fake servers.
    discord_api_base: str | None = None
    discord_gateway_url: str | None = None
    slack_api_base: str | None = None
    console_slack_issuer: str | None = None  # Slack's OpenID issuer (https://slack.com)

    @field_validator(
        "discord_guild_id",
        "openai_base_url",
        "discord_api_base",
        "discord_gateway_url",
        "slack_api_base",
        "console_slack_issuer",
        "console_url",
        mode="before",
    )
    @classmethod
    def _blank_is_none(cls, value: Any) -> Any:
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator(
        "openai_base_url",
        "discord_api_base",
        "slack_api_base",
        "console_slack_issuer",
        "console_url",
    )
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/") if value else value

    @field_validator("console_admins", "console_moderators")
    @classmethod
    def _allow_list(cls, value: str) -> str:
        for entry in (e.strip() for e in value.split(",") if e.strip()):
            platform, _, user = entry.partition(":")
            if platform not in ("discord", "slack") or not user:
                raise ValueError("must list discord:<user id> or slack:<user id> entries")
        return value

    @field_validator("llm_provider", "log_format", mode="before")
    @classmethod
    def _lower(cls, value: Any) -> Any:
        return value.strip().lower() if isinstance(value, str) else value

    @field_validator("log_level")
    @classmethod
    def _log_level(cls, value: str) -> str:
        level = value.strip().upper()
        if level not in LOG_LEVELS:
            raise ValueError(f"must be one of {', '.join(LOG_LEVELS)}")
        return level

    def secret_values(self) -> tuple[str, ...]:
        """The values of every secret that is set, for the log redactor; never log them."""
        values = (getattr(self, name) for name in type(self).model_fields)
        found = [v.get_secret_value() for v in values if isinstance(v, SecretStr)]
        password = urlsplit(self.database_url).password  # postgresql://user:password@host/db
        return tuple(v for v in [*found, password or ""] if v)

    @property
    def slack_multi_workspace(self) -> bool:
        """Whether ``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET`` turn on the OAuth install."""
        return bool(self.slack_client_id.strip()) and _is_set(self.slack_client_secret)

    @property
    def slack_moderator_ids(self) -> tuple[str, ...]:
        """``SLACK_MODERATORS`` split on commas, blanks dropped."""
        return tuple(u.strip() for u in self.slack_moderators.split(",") if u.strip())


def load_settings(**overrides: Any) -> Settings:
    """Build :class:`Settings`; a validation failure becomes one :class:`ConfigError`.

    ``overrides`` are passed to ``Settings`` (e.g. ``_env_file=None`` in tests).
    """
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = "; ".join(_describe(err) for err in exc.errors())
        raise ConfigError(f"{problems} (see .env.example)") from None


def _describe(err: Mapping[str, Any]) -> str:
    field = str(err["loc"][0]) if err["loc"] else ""
    env = field.upper() or "settings"
    if field.endswith(("_token", "_secret", "_key")):
        return f"{env} is invalid: {err['msg']}"  # never echo a secret
    got = f"got {str(err['input'])!r}"
    if field in _NUMBER_RULES:
        return f"{env} must be {_NUMBER_RULES[field]}, {got}"
    if field == "llm_provider":
        return f"LLM_PROVIDER must be one of auto, openai, embedded, {got}"
    if field == "log_format":
        return f"LOG_FORMAT must be text or json, {got}"
    msg = err["msg"].removeprefix("Value error, ")
    return f"{env} {msg}, {got}"


def require_discord(settings: Settings) -> None:
    """Raise :class:`ConfigError` unless everything the Discord adapter needs is set."""
    _require(settings, "Discord", ["discord_token"])


def require_slack(settings: Settings, *, http: bool) -> None:
    """Raise :class:`ConfigError` unless the Slack adapter can start (HTTP or Socket Mode).

    In multi-workspace mode (``SLACK_CLIENT_ID`` and ``SLACK_CLIENT_SECRET``) the tokens come
    from each workspace's install: HTTP mode and the signing secret are what it needs.
    """
    if settings.slack_multi_workspace:
        if not http:
            raise ConfigError(
                "Slack multi-workspace mode (SLACK_CLIENT_ID) needs HTTP mode: "
                "run `jokebot slack --http` (the install page must be reachable)"
            )
        _require(settings, "Slack (multi-workspace)", ["slack_signing_secret"])
        return
    needed = ["slack_bot_token", "slack_signing_secret" if http else "slack_app_token"]
    _require(settings, f"Slack ({'HTTP mode' if http else 'Socket Mode'})", needed)


def _require(settings: Settings, platform: str, fields: list[str]) -> None:
    missing = [f.upper() for f in fields if not _is_set(getattr(settings, f))]
    if missing:
        names = " and ".join(missing)
        raise ConfigError(f"{platform}: set {names} in the environment or .env (see .env.example)")


def _is_set(value: object) -> bool:
    if isinstance(value, SecretStr):
        return bool(value.get_secret_value().strip())
    return bool(value)
