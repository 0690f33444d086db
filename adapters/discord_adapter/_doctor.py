"""``jokebot doctor`` for Discord: the token, the bot's permissions in every configured channel.

The permissions come from the guild cache of a short gateway session (roles and channel
overwrites, as :mod:`._permissions` computes them for ``/jokeconfig``); nothing is posted.
``fix()`` re-syncs the slash commands.
"""

import asyncio
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from typing import Any

import discord

from adapters.discord_adapter._client import JokeClient, _NoSink
from adapters.discord_adapter._commands import sync_commands
from adapters.discord_adapter._config import PLATFORM, invite_url
from adapters.discord_adapter._permissions import missing
from bot.models import Finding, Level, ScopeConfig

TOKEN_FIX = "copy the bot token from the Developer Portal (your app → Bot → Reset Token)"  # noqa: S105


@dataclass
class DiscordCheck:
    """Checks ``token`` and the channels of every configured guild (``scopes``).

    ``guild_id``: where ``fix()`` syncs the commands (None: globally).
    """

    token: str
    scopes: Sequence[ScopeConfig]
    guild_id: int | None = None
    ready_timeout_s: float = 30.0
    client_options: dict[str, Any] = field(default_factory=dict)
    area: str = PLATFORM

    def _finding(self, level: Level, message: str, fix: str = "") -> Finding:
        return Finding(level, self.area, message, fix)

    async def check(self) -> list[Finding]:
        async with JokeClient(_NoSink(), **self.client_options) as client:
            try:
                await client.login(self.token)
            except discord.LoginFailure:
                return [self._finding(Level.ERROR, "DISCORD_TOKEN was refused", TOKEN_FIX)]
            app_id = client.application_id or 0
            found = [self._finding(Level.OK, f"logged in as {client.user} (app {app_id})")]
            if not self.scopes:
                fix = f"invite the bot ({invite_url(app_id)}), then run /jokeconfig in the server"
                return [*found, self._finding(Level.WARN, "no server is configured", fix)]
            task = asyncio.create_task(client.connect(reconnect=False), name="doctor-gateway")
            try:
                async with asyncio.timeout(self.ready_timeout_s):
                    await client.wait_until_ready()
                for scope in self.scopes:
                    found += self._guild(client, scope, app_id)
            except TimeoutError:
                fix = "check the network; the gateway did not become ready"
                found.append(self._finding(Level.ERROR, "no gateway session", fix))
            finally:
                await client.close()
                task.cancel()
                with suppress(asyncio.CancelledError, discord.DiscordException):
                    await task
        return found

    def _guild(self, client: discord.Client, scope: ScopeConfig, app_id: int) -> list[Finding]:
        guild = client.get_guild(int(scope.scope)) if scope.scope.isdigit() else None
        if guild is None:
            msg = f"the bot is not in server {scope.scope} (or it is unavailable)"
            return [self._finding(Level.ERROR, msg, f"invite it: {invite_url(app_id)}")]
        found = []
        for what, channel_id in (
            ("moderator", scope.mod_channel),
            ("public", scope.public_channel),
        ):
            channel = guild.get_channel(int(channel_id)) if channel_id.isdigit() else None
            where = f"{guild.name}: {what} channel"
            if channel is None:
                msg = f"{where} {channel_id} is gone or hidden from the bot"
                found.append(self._finding(Level.ERROR, msg, "run /jokeconfig in the server"))
                continue
            lacking = missing(channel)
            if lacking is None:
                msg = f"{where} #{channel.name}: permissions unknown"
                found.append(self._finding(Level.WARN, msg, "run jokebot doctor again"))
            elif lacking:
                msg = f"{where} #{channel.name} lacks {', '.join(lacking)}"
                fix = (
                    f"allow {', '.join(lacking)} for jokebot in #{channel.name} (Edit Channel → "
                    "Permissions: its role, and no overwrite denying it), or re-invite with "
                    f"{invite_url(app_id)}"
                )
                found.append(self._finding(Level.ERROR, msg, fix))
            else:
                found.append(self._finding(Level.OK, f"{where} #{channel.name}: permissions ok"))
        return found

    async def fix(self) -> list[Finding]:
        async with JokeClient(_NoSink(), **self.client_options) as client:
            try:
                await client.login(self.token)
            except discord.LoginFailure:
                return [self._finding(Level.WARN, "slash commands not synced: bad token")]
            names = await sync_commands(client, self.guild_id)
        where = f"guild {self.guild_id}" if self.guild_id else "every server"
        commands = ", ".join(f"/{n}" for n in names)
        return [self._finding(Level.OK, f"re-synced {commands} to {where}")]
