"""From a provider's token to an :class:`Identity`: who signed in, from where, with what role."""

from collections.abc import Mapping
from typing import Any

from adapters.console._errors import SignInRefused
from adapters.console._identity import Identity
from adapters.console._rights import DiscordRights, SlackRights
from adapters.console._signin_config import DISCORD, SLACK, SlackSignIn

# Slack's namespaced ID token claims (api.slack.com/authentication/sign-in-with-slack).
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"


async def discord_identity(rights: DiscordRights, token: Mapping[str, Any]) -> Identity:
    """The Discord user behind ``token``, if a member of the served server.

    Raises:
        SignInRefused: not a member of the server (or the token may not tell).
        PlatformUnavailable: Discord did not answer.
    """
    access_token = str(token.get("access_token", ""))
    me = await rights.api.me(access_token)
    member = await rights.api.my_member(access_token)
    if member is None:
        raise SignInRefused("You are not a member of the Discord server this bot serves.")
    user_id = str(me.get("id", ""))
    guild_id = rights.guild_id
    role = await rights.role_of(member)
    return Identity(DISCORD, user_id, member.display, role, guild_id)


async def slack_identity(
    rights: SlackRights, config: SlackSignIn, token: Mapping[str, Any]
) -> Identity:
    """The Slack user named by the verified ID token's claims, if from the served workspace.

    Raises:
        SignInRefused: no verified ID token, or one from another workspace.
        PlatformUnavailable: Slack did not answer.
    """
    claims = token.get("userinfo")
    if not isinstance(claims, Mapping):
        raise SignInRefused("Slack sent no ID token.")
    team_id, user_id = str(claims.get(TEAM_CLAIM, "")), str(claims.get(USER_CLAIM, ""))
    if team_id != config.team_id:
        raise SignInRefused(
            "You signed in to another Slack workspace than the one this bot serves."
        )
    if not user_id or user_id != claims.get("sub"):
        raise SignInRefused("Slack's ID token names no user.")
    role = await rights.role_of(user_id)
    return Identity(SLACK, user_id, str(claims.get("name") or user_id), role, team_id)
