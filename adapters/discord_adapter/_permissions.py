"""What the bot may do in a channel, from discord.py's guild cache (roles and overwrites).

Used where Discord does not say by itself: history without Read Message History is an empty
200 (so an empty page proves nothing), and ``/jokeconfig`` must refuse channels where the bot
could not post its cards or find them again.
"""

import discord

# What the bot needs in the moderator and public channels, with the names Discord's UI shows.
CHANNEL_NEEDS = (
    ("view_channel", "View Channel"),
    ("send_messages", "Send Messages"),
    ("embed_links", "Embed Links"),
    ("read_message_history", "Read Message History"),
)


def bot_permissions(channel: object) -> discord.Permissions | None:
    """The bot's effective permissions in a cached guild channel or thread; None if unknown."""
    if not isinstance(channel, discord.abc.GuildChannel | discord.Thread):
        return None
    guild = channel.guild
    if guild is None or guild.unavailable or guild.me is None:
        return None  # roles and overwrites are not cached: nothing can be computed
    return channel.permissions_for(guild.me)


def missing(channel: object) -> list[str] | None:
    """Names of the permissions the bot lacks in ``channel``; None if they cannot be told."""
    perms = bot_permissions(channel)
    if perms is None:
        return None
    return [label for name, label in CHANNEL_NEEDS if not getattr(perms, name)]


def can_read_history(client: discord.Client, where: discord.abc.Messageable) -> bool | None:
    """True if the bot may read ``where``'s history, False if not, None if unknown.

    DMs always allow it; a guild channel needs View Channel and Read Message History.
    """
    channel_id = getattr(where, "id", None)
    found = client.get_channel(channel_id) if isinstance(channel_id, int) else None
    if isinstance(where, discord.DMChannel) or isinstance(found, discord.DMChannel):
        return True
    perms = bot_permissions(found)
    return None if perms is None else perms.view_channel and perms.read_message_history
