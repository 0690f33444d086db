"""AuditFeed: replay then live tail (no gap, no double), out-of-order commits, slow followers."""

import asyncio
import json
import sqlite3
from collections.abc import AsyncIterator
from contextlib import aclosing
from pathlib import Path

import pytest

from bot.feed import AuditFeed
from bot.models import AuditEvent
from bot.store import AuditRow, Store, open_store
from tests.support.clock import FakeClock


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[Store]:
    opened = await open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        yield opened
    finally:
        await opened.close()


async def write(store: Store, *events: str) -> None:
    async with store.transaction() as tx:
        await tx.add_audit([AuditRow("r1", 1.0, "x", e) for e in events])


async def take(events: AsyncIterator[AuditEvent], n: int) -> list[AuditEvent]:
    return [await asyncio.wait_for(anext(events), 5) for _ in range(n)]


def insert_raw(path: Path, seq: int, event: str) -> None:
    """A row committed by another connection with a chosen id (as a slower writer's would be)."""
    with sqlite3.connect(path) as db:
        db.execute(
            "INSERT INTO audit (id, run_id, at, actor, event, data_json) VALUES (?,?,?,?,?,?)",
            (seq, "r1", 1.0, "other", event, json.dumps({})),
        )


async def test_feed_replays_from_a_seq_then_follows_live(store: Store) -> None:
    await write(store, "a", "b", "c")
    feed = AuditFeed(store, FakeClock())
    async with feed.running(), aclosing(feed.follow(1)) as events:
        replay = await take(events, 2)
        await write(store, "d")
        await write(store, "e", "f")
        live = await take(events, 3)

    assert [(e.seq, e.event) for e in replay] == [(2, "b"), (3, "c")]
    assert [(e.seq, e.event) for e in live] == [(4, "d"), (5, "e"), (6, "f")]


async def test_feed_holds_a_row_back_until_the_gap_before_it_commits(
    store: Store, tmp_path: Path
) -> None:
    clock = FakeClock()
    await write(store, "a")
    feed = AuditFeed(store, clock, poll_s=1.0, gap_grace_s=5.0)
    async with feed.running(), aclosing(feed.follow(1)) as events:
        insert_raw(tmp_path / "bot.db", 3, "committed first")
        clock.advance(1.0)
        await asyncio.sleep(0.05)
        held = feed.frontier
        insert_raw(tmp_path / "bot.db", 2, "committed second")
        clock.advance(1.0)
        got = await take(events, 2)

    assert held == 1
    assert [(e.seq, e.event) for e in got] == [(2, "committed second"), (3, "committed first")]


async def test_feed_skips_a_gap_that_never_fills_after_the_grace(
    store: Store, tmp_path: Path
) -> None:
    clock = FakeClock()
    await write(store, "a")
    feed = AuditFeed(store, clock, poll_s=1.0, gap_grace_s=3.0)
    async with feed.running(), aclosing(feed.follow(1)) as events:
        insert_raw(tmp_path / "bot.db", 3, "after a rolled-back id")
        pending = asyncio.ensure_future(anext(events))
        for _ in range(10):
            clock.advance(0.5)
            await asyncio.sleep(0.02)
        got = await asyncio.wait_for(pending, 5)

    assert (got.seq, got.event) == (3, "after a rolled-back id")


async def test_feed_slow_follower_replays_instead_of_losing_rows(store: Store) -> None:
    feed = AuditFeed(store, FakeClock(), buffer=3)
    async with feed.running(), aclosing(feed.follow(0)) as events:
        first = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.01)  # registered, waiting for the first row
        for i in range(10):
            await write(store, f"e{i}")  # far past the buffer while nobody reads
        got = [await asyncio.wait_for(first, 5), *await take(events, 9)]

    assert feed.overflows >= 1
    assert [e.event for e in got] == [f"e{i}" for i in range(10)]
    assert [e.seq for e in got] == list(range(1, 11))


async def test_feed_followers_end_when_told_and_when_the_feed_stops(store: Store) -> None:
    feed = AuditFeed(store, FakeClock())
    async with feed.running():
        events = feed.follow(0)
        pending = asyncio.ensure_future(anext(events))
        await asyncio.sleep(0.01)
        feed.end_followers()
        with pytest.raises(StopAsyncIteration):
            await asyncio.wait_for(pending, 5)
    late = feed.follow(0)
    with pytest.raises(StopAsyncIteration):
        await asyncio.wait_for(anext(late), 5)
