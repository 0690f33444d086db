"""``/jokelink``: review this server's jokes on another platform too, or another's here.

Without a code it shows a one-time code for this server (Manage Server only), to type on the
other platform (``/joke link CODE`` in a Slack channel). With a code it makes this channel a
review surface of the scope that code was made for.
"""

import logging
from typing import Any

import discord
from discord import app_commands

from adapters._review import GENERIC_FAILURE
from adapters.discord_adapter._config import PLATFORM
from adapters.discord_adapter._listeners import tell
from bot.errors import BadRequest
from bot.models import Surface
from bot.ports import EventSink

log = logging.getLogger(__name__)

NEEDS_MANAGE = "You need the Manage Server permission to link jokebot to another platform."


def code_text(code: str) -> str:
    """What the admin is told with a fresh code, in Discord markdown (the code is ours)."""
    return (
        f"Link code **{code}** (one use, valid 10 minutes). In the Slack channel where "
        f"moderators should also review this server's jokes, type `/joke link {code}`."
    )


def jokelink_command(sink: EventSink) -> app_commands.Command[Any, ..., None]:
    """``/jokelink [code]``: a code for this server, or use another platform's code here."""

    @app_commands.command(
        name="jokelink", description="Review this server's jokes on Slack too, or Slack's here"
    )
    @app_commands.describe(code="A code shown by `/joke link` on Slack: review its jokes here")
    @app_commands.guild_only()
    @app_commands.default_permissions(manage_guild=True)
    async def jokelink(interaction: discord.Interaction, code: str | None = None) -> None:
        if interaction.guild_id is None or interaction.channel_id is None:
            await tell(interaction, "Use this command in a server channel.")
            return
        if not interaction.permissions.manage_guild:  # default_permissions can be changed
            await tell(interaction, NEEDS_MANAGE)
            return
        try:
            if code is None:
                made = await sink.link_code(PLATFORM, str(interaction.guild_id))
                await tell(interaction, code_text(made.code), markdown=True)  # our own text
                return
            answer = await sink.link(code, Surface(PLATFORM, str(interaction.channel_id)))
        except BadRequest as exc:
            answer = str(exc)
        except Exception:
            log.exception("%s: /jokelink failed (interaction=%s)", PLATFORM, interaction.id)
            answer = GENERIC_FAILURE
        await tell(interaction, answer)

    return jokelink
