"""Role mapping: what a Discord member's roles or a Slack user's groups make them here.

The same rules as a click on a card (``adapters/*/_moderators.py``): on Discord the server's
moderator role (``/jokeconfig``) or Manage Messages makes a moderator; on Slack
``SLACK_MODERATORS`` or the moderator group. Admins are the allow-listed users, and on
Discord whoever may run ``/jokeconfig`` (Manage Server). Everyone else from the served
server or workspace is a viewer.
"""

from collections.abc import Collection, Iterable, Mapping

from adapters.console._identity import Role
from adapters.console._signin_config import DISCORD, SLACK, AllowLists

# Permission bits (discord developers/topics/permissions).
ADMINISTRATOR, MANAGE_GUILD, MANAGE_MESSAGES = 1 << 3, 1 << 5, 1 << 13
ALL_PERMISSIONS = (1 << 53) - 1


def guild_permissions(
    guild_id: str,
    owner_id: str,
    user_id: str,
    member_roles: Iterable[str],
    role_permissions: Mapping[str, int],
) -> int:
    """A member's server-wide permissions: @everyone's plus their roles'; owner/Administrator: all.

    ``role_permissions`` maps role ids to their bit sets; the @everyone role's id is the
    server's id.
    """
    if user_id == owner_id:
        return ALL_PERMISSIONS
    permissions = role_permissions.get(guild_id, 0)
    for role in member_roles:
        permissions |= role_permissions.get(role, 0)
    return ALL_PERMISSIONS if permissions & ADMINISTRATOR else permissions


def discord_role(
    user_id: str,
    member_roles: Collection[str],
    permissions: int | None,
    moderator_role: str,
    allow: AllowLists,
) -> Role:
    """The role of a member of the served server.

    Args:
        user_id: the member's user id.
        member_roles: their role ids in the server.
        permissions: their server-wide permissions, or None when unknown (no bot token):
            then only the moderator role and the allow-lists count.
        moderator_role: the server's moderator role id from ``/jokeconfig`` ("" if none).
        allow: the configured allow-lists.
    """
    found = [allow.role(DISCORD, user_id) or Role.VIEWER]
    if moderator_role and moderator_role in member_roles:
        found.append(Role.MODERATOR)
    if permissions is not None:
        if permissions & MANAGE_GUILD:
            found.append(Role.ADMIN)
        elif permissions & MANAGE_MESSAGES:
            found.append(Role.MODERATOR)
    return Role.highest(found)


def slack_role(
    user_id: str,
    moderators: Collection[str],
    group_members: Collection[str],
    allow: AllowLists,
) -> Role:
    """The role of a user of the served workspace."""
    found = [allow.role(SLACK, user_id) or Role.VIEWER]
    if user_id in moderators or user_id in group_members:
        found.append(Role.MODERATOR)
    return Role.highest(found)
