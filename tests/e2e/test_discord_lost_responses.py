"""Lost responses after a successful public post, on the real stack and the strict fake.

Each approved joke's POST is applied by the fake and its answer lost (connection cut, or a
500 after the write). The outbox must then reconcile: find the post in a busy channel
(hundreds of other messages after it), or, when absence cannot be proven (no Read Message
History, or the post buried past the scan budget), end ``uncertain`` with an alert in the
moderator channel. Never a second public post.

Fast by default; ``JOKEBOT_DISCORD_SOAK_RUNS=50`` runs that many jokes per scenario.
"""

import os
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_discord_flow import JOKE1, World, world_for
from tests.support.fake_discord import BOT_ID, MOD_CHANNEL, PUBLIC_CHANNEL, READ_HISTORY
from tests.support.fake_discord._harness import cache_has
from tests.support.llm import FakeLLM
from tests.support.runtime_invariants import Snapshot

RUNS = int(os.environ.get("JOKEBOT_DISCORD_SOAK_RUNS", "3"))
POSTS = rf"/channels/{PUBLIC_CHANNEL}/messages"
MARK = " · ref "


@pytest.fixture
async def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[World]:
    async with world_for(tmp_path, monkeypatch, FakeLLM(JOKE1)) as w:
        await w.configure()
        yield w


def bot_posts(w: World) -> Counter[str]:
    """How many of the bot's public posts carry each ref key."""
    keys: Counter[str] = Counter()
    for message in w.fake.messages(PUBLIC_CHANNEL):
        if message["author"]["id"] == str(BOT_ID) and message["embeds"]:
            footer = message["embeds"][0].get("footer", {}).get("text", "")
            keys[footer.rpartition(MARK)[2]] += 1
    return keys


def publishes(w: World) -> list[dict[str, Any]]:
    return [e for e in Snapshot.load(w.stack.db_path).outbox if e["kind"] == "publish"]


def alerts(w: World) -> list[str]:
    return [
        m["embeds"][0].get("description", "")
        for m in w.fake.messages(MOD_CHANNEL)
        if m["embeds"] and "⚠️" in (m["embeds"][0].get("title") or "")
    ]


async def approve_one(w: World, topic: str) -> None:
    """/joke, the card, Approve; the publish is attempted (and its answer lost)."""
    await w.ask(topic)
    await w.stack.drain()
    await w.press("approve", w.pending_card())
    await w.stack.drain()


async def retry_later(w: World) -> None:
    """Let the outbox's backoff pass (and Discord's nonce window), then deliver again."""
    for _ in range(5):
        w.fake.state.clock.advance(301)  # past the nonce window: only history can tell
        w.stack.clock.advance(600)
        await w.stack.drain()


async def test_busy_channel_lost_responses_are_found_not_reposted(world: World) -> None:
    world.fake.busy[PUBLIC_CHANNEL] = 300  # 300 other messages after each of the bot's posts
    world.fake.fail("POST", POSTS, status=200, then="drop", times=RUNS)

    for i in range(RUNS):
        await approve_one(world, f"cats {i}")
        await retry_later(world)

    posts, rows = bot_posts(world), publishes(world)
    assert len(rows) == RUNS
    assert [r["status"] for r in rows] == ["done"] * RUNS
    assert all(posts[r["dedupe_key"]] == 1 for r in rows)
    assert sum(posts.values()) == RUNS  # 0 duplicate public posts
    assert alerts(world) == []


async def test_post_buried_past_the_scan_budget_is_uncertain_with_an_alert(world: World) -> None:
    world.fake.busy[PUBLIC_CHANNEL] = 1100  # more than the sender scans (1000) before giving up
    world.fake.fail("POST", POSTS, status=200, then="drop")

    await approve_one(world, "cats")
    await retry_later(world)

    [row] = publishes(world)
    assert row["status"] == "uncertain"
    assert bot_posts(world)[row["dedupe_key"]] == 1
    [alert] = alerts(world)
    assert "may have been applied" in alert


async def test_no_read_message_history_every_lost_response_is_uncertain(world: World) -> None:
    # Set up correctly (/jokeconfig checks), then an admin takes the permission away.
    await world.fake.set_overwrite(PUBLIC_CHANNEL, BOT_ID, deny=READ_HISTORY)
    await cache_has(world.client, PUBLIC_CHANNEL, BOT_ID, 0, READ_HISTORY)
    world.fake.fail("POST", POSTS, status=200, then="drop", times=RUNS)

    for i in range(RUNS):
        await approve_one(world, f"cats {i}")
        await retry_later(world)

    posts, rows = bot_posts(world), publishes(world)
    assert [r["status"] for r in rows] == ["uncertain"] * RUNS
    assert sum(posts.values()) == RUNS  # each joke posted exactly once, never again
    found = alerts(world)
    assert len(found) == RUNS
    assert all("Read Message History" in a and "may have been applied" in a for a in found)


async def test_a_500_after_the_post_is_deduplicated_by_the_nonce(world: World) -> None:
    # Discord wrote the message, then answered 500: discord.py retries at once (1 s later),
    # with the same nonce, inside the dedupe window.
    world.fake.fail("POST", POSTS, status=500, then="error")

    await approve_one(world, "cats")
    await retry_later(world)

    [row] = publishes(world)
    assert row["status"] == "done"
    assert bot_posts(world)[row["dedupe_key"]] == 1
    assert [c.status for c in world.fake.calls_to("POST", POSTS)] == [500, 200]
