"""Who may decide on Discord: the guild's moderator role, or Manage Messages."""

from collections.abc import Iterable

import discord

from adapters.discord_adapter._config import PLATFORM
from bot.models import Actor
from bot.ports import EventSink


def is_moderator(
    role_ids: Iterable[int], manage_messages: bool, moderator_role: str | None
) -> bool:
    """True for a member holding the configured moderator role or Manage Messages."""
    if manage_messages:
        return True
    if not moderator_role or not moderator_role.isdigit():
        return False
    return int(moderator_role) in set(role_ids)


async def actor_for(interaction: discord.Interaction, sink: EventSink) -> Actor:
    """The clicker as a neutral Actor; ``is_moderator`` from the guild's role or Manage Messages."""
    user = interaction.user
    role_ids = [role.id for role in user.roles] if isinstance(user, discord.Member) else []
    config = None
    if interaction.guild_id is not None:
        config = await sink.scope(PLATFORM, str(interaction.guild_id))
    moderator = is_moderator(
        role_ids,
        interaction.permissions.manage_messages,
        config.moderator_role if config else None,
    )
    return Actor(PLATFORM, str(user.id), user.display_name, is_moderator=moderator)
