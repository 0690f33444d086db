"""Sharded clients against the fake: routing by guild, 4010, ``/gateway/bot``, the fence.

Two ``ShardedJokeClient``s split 4 shards as two processes would; the fake routes each
guild's events to the connection of shard ``(guild_id >> 22) % 4`` only and logs every
connection, which is what the cross-process handover test relies on.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack, asynccontextmanager

import discord
import pytest

from adapters.discord_adapter import ShardedJokeClient, build_discord
from bot.errors import LeaseLost
from tests.support.fake_discord import (
    GUILD_ID,
    INVALID_SHARD,
    TOKEN,
    FakeDiscord,
    StubSink,
    guild_on_shard,
    in_guild,
    running,
    serve_fake,
    shard_of,
    slash,
)

COUNT = 4
OTHERS = tuple(guild_on_shard(s, COUNT) for s in range(COUNT) if s != shard_of(GUILD_ID, COUNT))
GUILDS = (GUILD_ID, *OTHERS)  # one guild on every shard


def sharded(sink: StubSink, shards: list[int], fence: Callable[[], bool]) -> ShardedJokeClient:
    client, _ = build_discord(
        sink,
        shard_ids=shards,
        shard_count=COUNT,
        fence=fence,
        identify_spacing_s=0.0,
        guild_ready_timeout=0.05,
    )
    assert isinstance(client, ShardedJokeClient)
    return client


@asynccontextmanager
async def fake_with_guilds(monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[FakeDiscord]:
    async with serve_fake(shard_count=COUNT, guilds=OTHERS) as fake:
        fake.patch(monkeypatch)
        yield fake


async def ask_everywhere(fake: FakeDiscord, *, timeout: float = 5.0) -> dict[int, str]:
    """``/joke`` in every guild; the followup each interaction was answered with, by guild.

    Each is deferred first (callback type 5) by the client holding the guild's shard.
    """
    tokens = {}
    for guild in GUILDS:
        payload = slash("joke", {"topic": "cats"})
        payload = payload if guild == GUILD_ID else in_guild(payload, guild)
        iid = await fake.interact(payload)
        tokens[guild] = (iid, payload["token"])
    answers = {}
    for guild, (iid, token) in tokens.items():
        call = await fake.wait_for_path("POST", rf"/webhooks/\d+/{token}", timeout=timeout)
        assert (call.status, fake.interaction(iid).responses) == (200, [5]), guild
        answers[guild] = str(call.body["content"])
    return answers


async def test_shards_each_client_gets_only_its_shards_guilds(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    low, high = StubSink(), StubSink()
    async with fake_with_guilds(monkeypatch) as fake, AsyncExitStack() as stack:
        first = sharded(low, [0, 1], lambda: True)
        second = sharded(high, [2, 3], lambda: True)
        await stack.enter_async_context(running(first))
        await stack.enter_async_context(running(second))

        answers = await ask_everywhere(fake)
        connected = fake.shards_connected()

    assert connected == {0, 1, 2, 3}
    assert answers == {guild: "Sent to the moderators." for guild in GUILDS}
    assert {g.id for g in first.guilds} == {g for g in GUILDS if shard_of(g, COUNT) < 2}
    assert {g.id for g in second.guilds} == {g for g in GUILDS if shard_of(g, COUNT) >= 2}
    assert {shard_of(int(r.origin.scope), COUNT) for r in low.requests} == {0, 1}
    assert {shard_of(int(r.origin.scope), COUNT) for r in high.requests} == {2, 3}
    assert fake.gateway.overlaps() == []


async def test_shards_the_connection_log_shows_two_connections_of_one_shard(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fake_with_guilds(monkeypatch) as fake, AsyncExitStack() as stack:
        await stack.enter_async_context(running(sharded(StubSink(), [1], lambda: True)))
        await stack.enter_async_context(running(sharded(StubSink(), [1, 2], lambda: True)))

        found = fake.gateway.overlaps()

    assert found == ["shard (1, 4): connections 1 and 2"]


async def test_shards_an_invalid_shard_is_closed_with_4010(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with fake_with_guilds(monkeypatch) as fake:
        client = sharded(StubSink(), [COUNT], lambda: True)  # ids run 0..COUNT-1

        with pytest.raises(discord.ConnectionClosed) as caught:
            async with running(client):
                pass

    assert caught.value.code == INVALID_SHARD
    assert fake.shards_connected() == set()


async def test_shards_gateway_bot_recommends_the_count_and_the_session_budget(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with (
        fake_with_guilds(monkeypatch) as fake,
        discord.Client(intents=discord.Intents.default()) as client,
    ):
        await client.login(TOKEN)
        count, url, limit = await client.http.get_bot_gateway()

    assert (count, url) == (COUNT, f"ws://127.0.0.1:{fake.port}/gateway")
    assert limit["max_concurrency"] == 1
    assert limit["remaining"] == limit["total"]


async def test_shards_a_client_past_its_lease_does_not_reconnect(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leased = True
    async with fake_with_guilds(monkeypatch) as fake:
        client = sharded(StubSink(), [0, 1], lambda: leased)
        task = asyncio.create_task(client.start(TOKEN))
        try:
            async with asyncio.timeout(5):
                while not client.is_ready():
                    await asyncio.sleep(0.005)
            before = len(fake.gateway.connections)

            leased = False  # the lease ran out while the connections were up (a pause)
            await fake.close()  # Discord drops them; discord.py reconnects or resumes
            with pytest.raises(LeaseLost):
                await asyncio.wait_for(task, 10)
        finally:
            await client.close()
            await asyncio.gather(task, return_exceptions=True)

        after = len(fake.gateway.connections)

    assert (before, after) == (2, 2)  # no new connection was opened
    assert fake.shards_connected() == set()


async def test_shards_events_past_the_lease_are_dropped_unanswered(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    leased = True
    sink = StubSink()
    async with fake_with_guilds(monkeypatch) as fake:
        client = sharded(sink, list(range(COUNT)), lambda: leased)
        async with running(client):
            leased = False  # back from a pause: the lease ran out meanwhile
            iid = await fake.interact(slash("joke", {"topic": "cats"}))
            await fake.dispatch("GUILD_DELETE", {"id": str(GUILD_ID), "unavailable": True})
            await asyncio.sleep(0.2)  # real time: the client would have answered by now

            responses = fake.interaction(iid).responses
            guild = client.get_guild(GUILD_ID)

    assert responses == []
    assert sink.requests == []
    assert guild is not None
    assert not guild.unavailable  # GUILD_DELETE was not applied either
