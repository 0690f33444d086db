"""Running the real client against the fake, and a scripted EventSink for adapter-only tests."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import discord
import pytest

from adapters.discord_adapter import DiscordSender, JokeClient, build_discord
from bot.models import (
    Actor,
    DecideResult,
    DecideStatus,
    DecisionRequest,
    JokeRequest,
    RequestResult,
    RequestStatus,
    ScopeConfig,
    StatusReport,
    Surface,
    WaitInfo,
)
from bot.ports import EventSink
from tests.support.fake_discord._server import FakeDiscord, serve_fake
from tests.support.fake_discord._world import (
    GUILD_ID,
    MOD_CHANNEL,
    MOD_ROLE,
    PUBLIC_CHANNEL,
    TOKEN,
)
from tests.support.links import ScriptedLinks

CONFIGURED = ScopeConfig(
    "discord", str(GUILD_ID), str(MOD_CHANNEL), str(PUBLIC_CHANNEL), str(MOD_ROLE)
)


@asynccontextmanager
async def running(client: discord.Client, *, timeout: float = 5.0) -> AsyncIterator[None]:
    """Start a client against the patched fake and wait for on_ready; close it, re-raise errors."""
    task = asyncio.create_task(client.start(TOKEN), name="discord-client")
    try:
        async with asyncio.timeout(timeout):
            while not client.is_ready():
                if task.done():
                    task.result()
                await asyncio.sleep(0.005)
        yield
    finally:
        await client.close()
        done, _ = await asyncio.wait({task}, timeout=timeout)
        if not done:
            task.cancel()
        elif not task.cancelled() and (exc := task.exception()) is not None:
            raise exc


async def cache_has(
    client: discord.Client, channel_id: int, target: int, allow: int, deny: int
) -> None:
    """Wait until the client has processed a CHANNEL_UPDATE with this overwrite."""
    want = (discord.Permissions(allow), discord.Permissions(deny))
    async with asyncio.timeout(2):
        while True:
            channel = client.get_channel(channel_id)
            if isinstance(channel, discord.abc.GuildChannel):
                pair = channel.overwrites_for(discord.Object(target)).pair()
                if pair == want:
                    return
            await asyncio.sleep(0.005)


class StubSink(ScriptedLinks):
    """A scripted EventSink that records what the adapter asked.

    ``gate``, when set, makes ``request_joke`` and ``decide`` wait for it (slow back ends).
    """

    def __init__(self, *, configured: bool = True) -> None:
        self.requests: list[JokeRequest] = []
        self.decisions: list[DecisionRequest] = []
        self.saved: list[ScopeConfig] = []
        self.scopes = {("discord", str(GUILD_ID)): CONFIGURED} if configured else {}
        self.request_result = RequestResult(RequestStatus.ACCEPTED, "Sent to the moderators.", "r1")
        self.decide_result = DecideResult(DecideStatus.APPLIED, "Done.")
        self.waits: dict[str, WaitInfo] = {}
        self.gate: asyncio.Event | None = None
        self.codes: list[tuple[str, str]] = []  # link codes asked for: (platform, scope)
        self.links: list[tuple[str, Surface]] = []  # codes used: (code, where)
        self.asked_status: list[Actor] = []  # who asked for /joke status
        self.report = StatusReport((), 0.0, 0.0)  # what /joke status answers

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        self.requests.append(request)
        if self.gate is not None:
            await self.gate.wait()
        return self.request_result

    async def decide(self, request: DecisionRequest) -> DecideResult:
        self.decisions.append(request)
        if self.gate is not None:
            await self.gate.wait()
        return self.decide_result

    async def wait_info(self, token: str) -> WaitInfo | None:
        return self.waits.get(token)

    async def status(self, requester: Actor) -> StatusReport:
        self.asked_status.append(requester)
        return self.report

    async def save_scope(self, config: ScopeConfig) -> None:
        self.saved.append(config)
        self.scopes[(config.platform, config.scope)] = config

    async def scope(self, platform: str, scope: str) -> ScopeConfig | None:
        return self.scopes.get((platform, scope))


@dataclass
class Session:
    """A fake Discord with a connected JokeClient and its sender."""

    fake: FakeDiscord
    client: JokeClient
    sender: DiscordSender

    async def overwrite(
        self, channel_id: int, target: int, *, allow: int = 0, deny: int = 0, member: bool = True
    ) -> None:
        """Change a channel overwrite on the fake and wait until the client's cache has it."""
        await self.fake.set_overwrite(channel_id, target, allow=allow, deny=deny, member=member)
        await cache_has(self.client, channel_id, target, allow, deny)


@asynccontextmanager
async def discord_session(
    monkeypatch: pytest.MonkeyPatch, sink: EventSink, **fake_options: Any
) -> AsyncIterator[Session]:
    """Serve a fake, patch discord.py at it, connect a fresh JokeClient; close all on exit."""
    async with serve_fake(**fake_options) as fake:
        fake.patch(monkeypatch)
        client, sender = build_discord(sink, guild_ready_timeout=0.05)
        async with running(client):
            yield Session(fake, client, sender)


@asynccontextmanager
async def connected(sink: EventSink) -> AsyncIterator[tuple[JokeClient, DiscordSender]]:
    """Another client against an already patched fake (a restart: new process, same world)."""
    client, sender = build_discord(sink, guild_ready_timeout=0.05)
    async with running(client):
        yield client, sender
