"""Slash commands: ``/joke <topic>`` (``/joke status``), ``/jokeconfig``, and syncing them."""

import logging
from typing import Any

import discord
from discord import app_commands

from adapters._review import GENERIC_FAILURE, is_status
from adapters._screen import describe, split_words
from adapters.discord_adapter._config import PLATFORM
from adapters.discord_adapter._inbound import joke_request
from adapters.discord_adapter._listeners import tell
from adapters.discord_adapter._permissions import missing
from adapters.discord_adapter._render import ephemeral, status_message
from bot.errors import BadRequest
from bot.models import Actor, ScopeConfig
from bot.ports import EventSink

log = logging.getLogger(__name__)

TOPIC_MAX = 200
BLOCKED_WORDS_MAX = 1000
IN_A_SERVER = "Use this command in a server, not in direct messages."


async def _defer(interaction: discord.Interaction) -> bool:
    """Ephemeral "thinking…" within the 3 s deadline; False if Discord no longer accepts it."""
    try:
        await interaction.response.defer(ephemeral=True, thinking=True)
    except discord.HTTPException:
        # Late (10062) or duplicate (40060): the user saw a failure, so start nothing.
        log.warning("%s: could not defer interaction %s", PLATFORM, interaction.id, exc_info=True)
        return False
    return True


def joke_command(sink: EventSink) -> app_commands.Command[Any, ..., None]:
    """``/joke <topic>``: defer first, hand the request to the sink, answer with its message."""

    @app_commands.command(name="joke", description="Ask for a joke; a moderator reviews it first")
    @app_commands.describe(topic="What the joke should be about")
    @app_commands.guild_only()
    async def joke(
        interaction: discord.Interaction, topic: app_commands.Range[str, 1, TOPIC_MAX]
    ) -> None:
        if interaction.guild_id is None:  # guild_only() hides it in DMs; Discord may not
            await tell(interaction, IN_A_SERVER)
            return
        if not await _defer(interaction):
            return
        user = interaction.user
        if is_status(topic):
            await _status(interaction, sink, Actor(PLATFORM, str(user.id), user.display_name))
            return
        request = joke_request(
            interaction_id=interaction.id,
            guild_id=interaction.guild_id,
            channel_id=interaction.channel_id,
            user_id=user.id,
            display=user.display_name or user.mention,
            topic=topic,
        )
        try:
            result = await sink.request_joke(request)
            message = result.message
        except Exception:
            log.exception(
                "%s: request_joke failed (interaction=%s guild=%s)",
                PLATFORM,
                interaction.id,
                interaction.guild_id,
            )
            message = GENERIC_FAILURE
        await interaction.followup.send(ephemeral(message), ephemeral=True)

    return joke


async def _status(interaction: discord.Interaction, sink: EventSink, requester: Actor) -> None:
    """``/joke status``: the requester's open and recent requests, only to them."""
    try:
        message = status_message(await sink.status(requester))
    except Exception:
        log.exception("%s: /joke status failed (interaction=%s)", PLATFORM, interaction.id)
        message = GENERIC_FAILURE
    await interaction.followup.send(message, ephemeral=True)


def jokeconfig_command(sink: EventSink) -> app_commands.Command[Any, ..., None]:
    """``/jokeconfig``: where cards go, where jokes go, who moderates, and the screen.

    ``blocked_words`` and ``screen_threshold`` left out keep their current values.
    """

    @app_commands.command(
        name="jokeconfig",
        description="Set the moderator channel, public channel and moderator role",
    )
    @app_commands.describe(
        mod_channel="Where joke drafts are reviewed",
        public_channel="Where approved jokes are posted",
        moderator_role="Who may approve, reject and edit drafts",
        blocked_words="Words no draft may contain, comma-separated (stem* for prefixes, - clears)",
        screen_threshold="Offensive-language score from which a draft is dropped; lower: stricter",
    )
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def jokeconfig(
        interaction: discord.Interaction,
        mod_channel: discord.TextChannel,
        public_channel: discord.TextChannel,
        moderator_role: discord.Role,
        blocked_words: app_commands.Range[str, 1, BLOCKED_WORDS_MAX] | None = None,
        screen_threshold: app_commands.Range[float, 0.01, 1.0] | None = None,
    ) -> None:
        if interaction.guild_id is None:
            await tell(interaction, IN_A_SERVER)
            return
        # default_permissions is only a default that server admins can change: check here too.
        if not interaction.permissions.manage_guild:
            await tell(interaction, "You need the Manage Server permission to configure jokebot.")
            return
        if not await _defer(interaction):
            return
        problems = channel_problems(mod_channel, public_channel)
        if problems:
            await interaction.followup.send(problems, ephemeral=True)
            return
        current = await sink.scope(PLATFORM, str(interaction.guild_id))
        words = current.blocked_words if current else ()  # left out: kept as they are
        if blocked_words is not None:
            words = split_words(blocked_words)
        threshold = current.screen_threshold if current else None
        if screen_threshold is not None:
            threshold = screen_threshold
        config = ScopeConfig(
            PLATFORM,
            str(interaction.guild_id),
            str(mod_channel.id),
            str(public_channel.id),
            str(moderator_role.id),
            words,
            threshold,
        )
        try:
            await sink.save_scope(config)
        except BadRequest as exc:
            await interaction.followup.send(f"{exc} Nothing was changed.", ephemeral=True)
            return
        await interaction.followup.send(
            f"Done. Drafts go to {mod_channel.mention} for {moderator_role.mention} to review; "
            f"approved jokes go to {public_channel.mention}.\n{ephemeral(describe(config))}",
            ephemeral=True,
        )

    return jokeconfig


def channel_problems(*channels: discord.TextChannel) -> str:
    """What keeps the bot from working in these channels, or "" when nothing does."""
    lines = []
    for channel in dict.fromkeys(channels):  # the same channel may be given twice
        lacking = missing(channel)
        if lacking is None:
            lines.append(f"I could not check my permissions in {channel.mention}; try again.")
        elif lacking:
            lines.append(f"In {channel.mention} I'm missing {_and(lacking)}.")
    if not lines:
        return ""
    fix = (
        "Give jokebot's role those permissions (channel settings → Permissions), "
        "then run /jokeconfig again. Nothing was changed."
    )
    return "\n".join([*lines, fix])


def _and(names: list[str]) -> str:
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


async def on_tree_error(
    interaction: discord.Interaction, error: app_commands.AppCommandError
) -> None:
    """One place for command failures: log with ids, answer generically, keep running."""
    name = interaction.command.name if interaction.command else "?"
    if isinstance(error, app_commands.NoPrivateMessage):
        await tell(interaction, IN_A_SERVER)
        return
    if isinstance(error, app_commands.TransformerError | app_commands.CheckFailure):
        log.info("%s: /%s refused for %s: %s", PLATFORM, name, interaction.id, error)
        await tell(interaction, "That option is not valid here; please pick another.")
        return
    log.error(
        "%s: /%s failed (interaction=%s guild=%s)",
        PLATFORM,
        name,
        interaction.id,
        interaction.guild_id,
        exc_info=error,
    )
    await tell(interaction, GENERIC_FAILURE)


async def sync_commands(client: discord.Client, guild_id: int | None) -> list[str]:
    """Publish the slash commands: to one guild (instant, for testing) or globally (slow)."""
    tree = getattr(client, "tree", None)
    if not isinstance(tree, app_commands.CommandTree):
        raise TypeError("sync_commands needs a JokeClient")
    if guild_id is None:
        synced = await tree.sync()
    else:
        guild = discord.Object(guild_id)
        tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
    return [command.name for command in synced]
