"""Who may decide on Discord: the guild's moderator role, or Manage Messages."""

from collections.abc import Iterable

import discord

from adapters.discord_adapter._config import PLATFORM
from bot.models import Actor
from bot.ports import EventSink

PAYLOAD_ROLES = "_roles"  # Member's copy of the payload's role ids (private in discord.py 2.7)


def is_moderator(
    role_ids: Iterable[int], manage_messages: bool, moderator_role: str | None
) -> bool:
    """True for a member holding the configured moderator role or Manage Messages."""
    if manage_messages:
        return True
    if not moderator_role or not moderator_role.isdigit():
        return False
    return int(moderator_role) in set(role_ids)


async def role_ids(interaction: discord.Interaction) -> list[int]:
    """The clicker's role ids, from the interaction payload, without the guild cache.

    ``Member.roles`` keeps only the roles found in the cached guild, so with the guild
    unavailable (not cached) every member looks role-less. The payload's ids are kept in
    ``Member._roles``; if discord.py ever drops that, ask Discord for the member instead.
    """
    user = interaction.user
    if not isinstance(user, discord.Member):
        return []
    ids = getattr(user, PAYLOAD_ROLES, None)
    if ids is not None:
        return [int(i) for i in ids]
    if interaction.guild_id is None:
        return []
    data = await interaction.client.http.get_member(interaction.guild_id, user.id)
    return [int(i) for i in data.get("roles", [])]


async def actor_for(interaction: discord.Interaction, sink: EventSink) -> Actor:
    """The clicker as a neutral Actor; ``is_moderator`` from the guild's role or Manage Messages."""
    user = interaction.user
    roles = await role_ids(interaction)
    config = None
    if interaction.guild_id is not None:
        config = await sink.scope(PLATFORM, str(interaction.guild_id))
    moderator = is_moderator(
        roles,
        interaction.permissions.manage_messages,
        config.moderator_role if config else None,
    )
    name = user.display_name
    return Actor(PLATFORM, str(user.id), name, is_moderator=moderator, name=name)
