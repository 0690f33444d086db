"""Preflight: the token works and the bot can post in both channels, checked without posting."""

import logging
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._config import SlackConfig
from bot.errors import ConfigError

log = logging.getLogger(__name__)


async def preflight(client: AsyncWebClient, config: SlackConfig) -> list[str]:
    """Check the token and that the bot can post in both channels.

    Returns warnings (logged, not fatal); raises ConfigError saying exactly what to do.
    Uses read-only calls, so a restart never spams the channels.
    """
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        raise ConfigError(
            f"Slack: SLACK_BOT_TOKEN was refused ({error}); copy the Bot User OAuth Token "
            "(xoxb-…) from the app's OAuth & Permissions page"
        ) from None
    bot = str(auth.get("user") or "jokebot")
    team = str(auth.get("team_id") or "")
    if config.team_id and team and config.team_id != team:
        raise ConfigError(
            f"Slack: SLACK_TEAM_ID={config.team_id}, but SLACK_BOT_TOKEN belongs to workspace "
            f"{team} ({auth.get('team') or '?'}): install the app in that workspace, or fix "
            "the setting"
        )
    problems: list[str] = []
    warnings: list[str] = []
    for setting, channel in (
        ("SLACK_MOD_CHANNEL", config.mod_channel),
        ("SLACK_PUBLIC_CHANNEL", config.public_channel),
    ):
        problem, warning = await _check_channel(client, setting, channel, bot)
        problems += [problem] if problem else []
        warnings += [warning] if warning else []
    if config.moderator_group:
        problems += await _check_group(client, config.moderator_group)
    if problems:
        raise ConfigError("Slack: " + "; ".join(problems))
    for warning in warnings:
        log.warning("slack: %s", warning)
    return warnings


async def _check_channel(
    client: AsyncWebClient, setting: str, channel: str, bot: str
) -> tuple[str, str]:
    if not channel:
        return f"set {setting} to a channel id (channel details → About → Channel ID)", ""
    invite = f"type `/invite @{bot}` in that channel"
    try:
        info = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        if error == "channel_not_found":
            return (
                f"{setting}={channel}: channel not found. Use the channel id (C…), not its name; "
                f"for a private channel {invite} first"
            ), ""
        if error == "missing_scope":
            return "", f"cannot check {setting} (add channels:read, groups:read to the app)"
        raise ConfigError(f"Slack: conversations.info {setting}={channel}: {error}") from None
    data = info.get("channel")
    about: dict[str, Any] = data if isinstance(data, dict) else {}
    name = str(about.get("name") or channel)
    if not about.get("is_member"):
        return f"the bot is not in #{name} ({setting}): invite it: /invite @{bot} in #{name}", ""
    try:
        await client.conversations_history(channel=channel, limit=1)
    except SlackApiError as exc:
        return "", (
            f"cannot read #{name} history ({exc.response.get('error', '')}): duplicate posts "
            "after a crash cannot be detected; add channels:history and groups:history"
        )
    return "", ""


async def _check_group(client: AsyncWebClient, group: str) -> list[str]:
    try:
        await client.usergroups_users_list(usergroup=group)
    except SlackApiError as exc:
        error = str(exc.response.get("error", ""))
        return [f"SLACK_MODERATOR_GROUP={group}: {error} ({_GROUP_HINTS.get(error, _NO_GROUP)})"]
    return []


_NO_GROUP = "use the group id (S…) from the group's page"
_GROUP_HINTS = {
    "missing_scope": "add the usergroups:read scope and reinstall",
    # Free workspaces have no user groups: the method answers plan_upgrade_required.
    "plan_upgrade_required": (
        "user groups need a paid Slack plan; list the moderators' user ids in "
        "SLACK_MODERATORS instead and leave SLACK_MODERATOR_GROUP empty"
    ),
}
