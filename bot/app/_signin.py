"""Console sign-in from Settings: the providers configured, their bot tokens, the allow-lists."""

from adapters.console._signin_config import (
    DISCORD_API_BASE,
    SLACK_API_BASE,
    SLACK_ISSUER,
    AllowLists,
    DiscordSignIn,
    SignInConfig,
    SlackSignIn,
)
from bot.app._platforms import secret
from bot.config import Settings
from bot.errors import ConfigError


def signin_config(settings: Settings, *, local_url: str = "") -> SignInConfig:
    """Sign-in for the console; ``local_url`` is its address when CONSOLE_URL is blank.

    With both blank the redirect URIs follow the address each request came to.

    Raises:
        ConfigError: a provider is half configured (a client id without its secret, no
            server or workspace to serve).
    """
    return SignInConfig(
        public_url=settings.console_url or local_url,
        discord=_discord(settings),
        slack=_slack(settings),
        allow=AllowLists.parse(settings.console_admins, settings.console_moderators),
        login_limit=settings.console_login_limit,
        login_window_s=settings.console_login_window_s,
        rights_ttl_s=settings.console_rights_ttl_s,
    )


def _discord(settings: Settings) -> DiscordSignIn | None:
    client_id, client_secret = (
        settings.console_discord_client_id,
        secret(settings.console_discord_client_secret),
    )
    if not client_id and not client_secret:
        return None
    guild = settings.console_discord_guild_id or settings.discord_guild_id or ""
    _require(
        "Discord", client_id, client_secret, guild, "CONSOLE_DISCORD", "CONSOLE_DISCORD_GUILD_ID"
    )
    return DiscordSignIn(
        client_id,
        client_secret,
        guild,
        api_base=settings.discord_api_base or DISCORD_API_BASE,
        bot_token=secret(settings.discord_token),
    )


def _slack(settings: Settings) -> SlackSignIn | None:
    client_id, client_secret = (
        settings.console_slack_client_id,
        secret(settings.console_slack_client_secret),
    )
    if not client_id and not client_secret:
        return None
    team = settings.console_slack_team_id
    _require("Slack", client_id, client_secret, team, "CONSOLE_SLACK", "CONSOLE_SLACK_TEAM_ID")
    api_base = settings.slack_api_base or SLACK_API_BASE
    return SlackSignIn(
        client_id,
        client_secret,
        team,
        issuer=settings.console_slack_issuer or SLACK_ISSUER,
        api_base=api_base if api_base.endswith("/") else api_base + "/",
        bot_token=secret(settings.slack_bot_token),
        moderators=settings.slack_moderator_ids,
        moderator_group=settings.slack_moderator_group,
    )


def _require(
    platform: str, client_id: str, secret: str, scope: str, prefix: str, scope_env: str
) -> None:
    missing = [
        name
        for name, value in (
            (f"{prefix}_CLIENT_ID", client_id),
            (f"{prefix}_CLIENT_SECRET", secret),
            (scope_env, scope),
        )
        if not value
    ]
    if missing:
        names = " and ".join(missing)
        raise ConfigError(f"console sign-in with {platform}: set {names} (see .env.example)")
