"""Discord adapter: ``/joke``, ``/jokeconfig``, review cards with restart-proof buttons.

Entry points for the wiring module (``bot/app.py``):

- ``build_discord(sink, **client_options) -> (client, sender)``: the client to run and the
  :class:`bot.ports.EffectSender` to register as ``senders["discord"]``.
- ``run_discord(token, sink, client=...)``: log in and serve until cancelled.
- ``sync_only(token, guild_id)``: ``jokebot discord --sync [--guild ID]``.
- ``invite_url(application_id)``, ``sync_commands(client, guild_id)``, ``use_endpoints(...)``.
"""

import logging
from dataclasses import dataclass
from typing import Any

import discord
import yarl

from adapters.discord_adapter._bot import JokeClient
from adapters.discord_adapter._rules import invite_url, is_moderator
from adapters.discord_adapter._sender import DiscordSender
from bot.models import (
    DecideResult,
    DecideStatus,
    DecisionRequest,
    JokeRequest,
    RequestResult,
    RequestStatus,
    ScopeConfig,
    WaitInfo,
)
from bot.ports import EventSink

__all__ = [
    "DiscordSender",
    "JokeClient",
    "SyncReport",
    "build_discord",
    "invite_url",
    "is_moderator",
    "run_discord",
    "sync_commands",
    "sync_only",
    "use_endpoints",
]

log = logging.getLogger(__name__)


def build_discord(sink: EventSink, **client_options: Any) -> tuple[JokeClient, DiscordSender]:
    """A JokeClient (default intents, no mentions) and the sender that posts through it."""
    client = JokeClient(sink, **client_options)
    return client, DiscordSender(client)


async def run_discord(token: str, sink: EventSink, *, client: JokeClient | None = None) -> None:
    """Log in and serve until cancelled; closes the client on the way out."""
    client = client or JokeClient(sink)
    async with client:
        await client.start(token)


async def sync_commands(client: discord.Client, guild_id: int | None) -> list[str]:
    """Publish the slash commands: to one guild (instant, for testing) or globally (slow)."""
    tree = getattr(client, "tree", None)
    if not isinstance(tree, discord.app_commands.CommandTree):
        raise TypeError("sync_commands needs a JokeClient")
    if guild_id is None:
        synced = await tree.sync()
    else:
        guild = discord.Object(guild_id)
        tree.copy_global_to(guild=guild)
        synced = await tree.sync(guild=guild)
    return [command.name for command in synced]


@dataclass(frozen=True)
class SyncReport:
    """What ``--sync`` did, for the CLI to print."""

    commands: list[str]
    application_id: int
    invite_url: str


class _NoSink:
    """The sink of a client that only syncs commands and never serves events."""

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        return RequestResult(RequestStatus.FAILED, "not serving")

    async def decide(self, request: DecisionRequest) -> DecideResult:
        return DecideResult(DecideStatus.NOT_FOUND, "not serving")

    async def wait_info(self, token: str) -> WaitInfo | None:
        return None

    async def save_scope(self, config: ScopeConfig) -> None:
        raise RuntimeError("not serving")

    async def scope(self, platform: str, scope: str) -> ScopeConfig | None:
        return None


async def sync_only(token: str, guild_id: int | None) -> SyncReport:
    """Log in over REST only, sync the commands, return what the CLI should print."""
    async with JokeClient(_NoSink()) as client:
        await client.login(token)
        names = await sync_commands(client, guild_id)
        app_id = client.application_id or 0
    return SyncReport(names, app_id, invite_url(app_id))


def use_endpoints(api_base: str | None, gateway_url: str | None) -> None:
    """Point discord.py at another REST base / gateway (local fakes; test settings only)."""
    if api_base:
        discord.http.Route.BASE = api_base
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)
