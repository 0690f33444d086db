"""Discord-only whole flows: the real discord.py client, the fake Discord and the real core.

The review scenarios every surface shares are in ``tests/e2e/scenarios``; these cases are
Discord's own (modal submits, an unconfigured guild, @everyone, 429s, the 3 s deadline, foreign
buttons). The core (SQLite file, runtime, joke flow, service) comes from ``tests.support.stack``;
only the LLM and the clock are fakes. The runtime is driven with ``drain()`` so every step is
deterministic.
"""

import asyncio
import copy
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.discord_adapter import DiscordSender, JokeClient, build_discord
from bot.service import NOT_SET_UP
from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    APP_ID,
    MOD,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    Call,
    FakeDiscord,
    button_ids,
    click,
    jokeconfig,
    modal_submit,
    running,
    serve_fake,
    slash,
)
from tests.support.llm import FakeLLM, GatedLLM
from tests.support.stack import Stack, joke_stack

JOKE1 = "What do cats eat for breakfast? Mice Krispies."
JOKE2 = "Why was the cat so good at video games? It had nine lives."
CALLBACK = r"/interactions/\d+/[^/]+/callback"
FOLLOWUP = rf"/webhooks/{APP_ID}/[^/]+"


@dataclass
class World:
    """The fake Discord, the core, and the currently connected client."""

    fake: FakeDiscord
    stack: Stack
    llm: FakeLLM
    client: JokeClient
    sender: DiscordSender

    async def ask(self, topic: str, *, user: int = ALICE) -> tuple[int, Call]:
        since = len(self.fake.calls)
        iid = await self.fake.interact(slash("joke", {"topic": topic}, user=user))
        followup = await self.fake.wait_for_path("POST", FOLLOWUP, since=since)
        return iid, followup

    async def configure(self) -> None:
        since = len(self.fake.calls)
        await self.fake.interact(jokeconfig(user=ADMIN))
        await self.fake.wait_for_path("POST", FOLLOWUP, since=since)

    def cards(self) -> list[dict[str, Any]]:
        return [m for m in self.fake.messages(MOD_CHANNEL) if m["embeds"] and m["author"]["bot"]]

    def pending_card(self) -> dict[str, Any]:
        """A snapshot of the one card with buttons (as a client would still show it)."""
        [card] = [c for c in self.cards() if c["components"]]
        return copy.deepcopy(card)

    def public_posts(self) -> list[dict[str, Any]]:
        return self.fake.messages(PUBLIC_CHANNEL)

    async def press(self, action: str, card: dict[str, Any], *, user: int = MOD) -> Call:
        [custom_id] = [i for i in button_ids(card) if i.endswith(f":{action}")]
        since = len(self.fake.calls)
        await self.fake.interact(click(custom_id, card, user=user))
        return await self.fake.wait_for_path("POST", CALLBACK, since=since)

    async def submit(
        self, kind: str, card: dict[str, Any], values: dict[str, str], *, shape: str = "label"
    ) -> Call:
        token = button_ids(card)[0].split(":")[2]
        since = len(self.fake.calls)
        payload = modal_submit(f"jk:v1:{token}:{kind}", values, card, shape=shape)
        await self.fake.interact(payload)
        return await self.fake.wait_for_path("POST", CALLBACK, since=since)


@asynccontextmanager
async def connect(
    fake: FakeDiscord, stack: Stack
) -> AsyncIterator[tuple[JokeClient, DiscordSender]]:
    """A client bound to the stack's current service, registered as its Discord sender."""
    client, sender = build_discord(stack.service, guild_ready_timeout=0.05)
    stack.register("discord", sender)
    async with running(client):
        yield client, sender


@asynccontextmanager
async def world_for(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLLM, *, serve: bool = False
) -> AsyncIterator[World]:
    async with serve_fake() as fake, joke_stack(tmp_path, llm=llm, serve=serve) as stack:
        fake.patch(monkeypatch)
        async with connect(fake, stack) as (client, sender):
            yield World(fake, stack, llm, client, sender)


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    async with world_for(tmp_path, monkeypatch, FakeLLM(JOKE1, JOKE2)) as w:
        yield w


async def test_edit_with_empty_text_changes_nothing(world: World) -> None:
    await world.configure()
    await world.ask("cats")
    await world.stack.drain()
    card = world.pending_card()

    answer = await world.submit("editmodal", card, {"text": "   "})
    await world.stack.drain()

    assert answer.body["type"] == 4
    assert answer.body["data"]["flags"] == 64
    assert "empty" in answer.body["data"]["content"]
    assert world.pending_card()["id"] == card["id"]
    assert world.public_posts() == []


async def test_edit_modal_submitted_after_a_restart(world: World) -> None:
    await world.configure()
    await world.ask("cats")
    await world.stack.drain()
    card = world.pending_card()
    await world.press("edit", card)

    await world.client.close()
    await world.stack.restart()
    async with connect(world.fake, world.stack):
        answer = await world.submit("editmodal", card, {"text": "Typed before the restart."})
        await world.stack.drain()

    assert answer.body["data"]["content"] == "✏️ Edited and approved by Mo"
    assert [p["embeds"][0]["description"] for p in world.public_posts()] == [
        "Typed before the restart."
    ]


async def test_public_post_retries_after_429(world: World) -> None:
    await world.configure()
    await world.ask("cats")
    await world.stack.drain()
    world.fake.rate_limit("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", retry_after=0.05)

    await world.press("approve", world.pending_card())
    await world.stack.drain()

    statuses = [
        c.status for c in world.fake.calls_to("POST", rf"/channels/{PUBLIC_CHANNEL}/messages")
    ]
    assert statuses == [429, 200]
    assert len(world.public_posts()) == 1


async def test_guild_not_set_up(world: World) -> None:
    _, followup = await world.ask("cats")
    await world.stack.drain()

    assert followup.body["content"] == NOT_SET_UP
    assert world.cards() == []
    assert world.llm.call_count == 0


async def test_everyone_in_topic_and_draft_pings_nobody(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    draft = "@everyone Why do cats hate @here? Too many mice. <@&1>"
    async with world_for(tmp_path, monkeypatch, FakeLLM(draft)) as w:
        await w.configure()
        _, followup = await w.ask("cats @everyone")
        await w.stack.drain()
        await w.press("approve", w.pending_card())
        await w.stack.drain()

        bodies = [c.body for c in w.fake.calls if c.method in ("POST", "PATCH") and c.body]
        with_text = [b for b in bodies if "content" in b or "data" in b or "embeds" in b]
        assert with_text
        for body in with_text:
            data = body.get("data", body)
            if "content" in data or "embeds" in data:
                assert data["allowed_mentions"]["parse"] == []
        inert = "@\u200beveryone"  # shown as text, never parsed as a mention
        assert inert in followup.body["content"]
        assert "@everyone" not in followup.body["content"]
        shown = w.public_posts()[0]["embeds"][0]["description"]
        assert inert in shown
        assert "<\u200b@&1>" in shown


async def test_slow_llm_does_not_delay_the_ack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    llm = GatedLLM(JOKE1)
    async with world_for(tmp_path, monkeypatch, llm, serve=True) as w:
        await w.configure()

        iid, followup = await w.ask("cats")
        await asyncio.wait_for(llm.started.wait(), 5)
        latency = w.fake.ack_latency(iid)
        since = len(w.fake.calls)
        assert w.cards() == []  # still drafting
        llm.release.set()
        await w.fake.wait_for_path("POST", rf"/channels/{MOD_CHANNEL}/messages", since=since)

        assert latency is not None
        assert latency < 0.5
        assert w.fake.interaction(iid).responses == [5]
        assert followup.status == 200
        assert len(w.cards()) == 1


async def test_unknown_token_on_a_card_is_answered(world: World) -> None:
    await world.configure()
    card = {
        "id": "1",
        "channel_id": str(MOD_CHANNEL),
        "type": 0,
        "content": "",
        "author": {"id": "1", "username": "x", "discriminator": "0", "avatar": None},
        "timestamp": "2026-01-01T00:00:00+00:00",
        "embeds": [],
        "components": [
            {
                "type": 1,
                "components": [{"type": 2, "style": 3, "custom_id": "jk:v1:abc123:approve"}],
            }
        ],
    }

    answer = await world.press("approve", card)

    assert answer.body["type"] == 4
    assert answer.body["data"]["content"] == "This review no longer exists."
