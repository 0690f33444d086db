"""Two runtimes (separate store objects, distinct runner ids) over one database — a SQLite file
or a PostgreSQL schema — racing for the same runs, timers and outbox rows: each step, expiry
and delivery happens exactly once.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import psycopg
import pytest

from bot.models import DecideStatus
from bot.runtime import Runtime
from bot.store import open_store
from tests.support.db import rows
from tests.support.postgres import scratch_schema
from tests.support.runtime_harness import ALICE, BOB, Harness
from tests.support.runtime_invariants import check_invariants

RUNS = 6


@pytest.fixture
async def pair(db_url: str) -> AsyncIterator[tuple[Harness, Runtime]]:
    """bot-1 (the harness) and bot-2, both recovered, over one database."""
    h = Harness(db_url)
    await h.boot()
    try:
        store = await open_store(db_url)
        try:
            second = h.new_runtime(store, "bot-2")
            await second.recover()
            yield h, second
        finally:
            await store.close()
    finally:
        await h.shutdown()


async def both_drain(h: Harness, second: Runtime) -> None:
    """Both drain at once (the race), then each once more so nothing is left for either.

    One drain per runtime at a time, as in a real process (a runtime re-claims its own claims).
    """
    await asyncio.gather(h.drain(), second.drain())
    await h.drain()
    await second.drain()


def sends(h: Harness) -> Counter[str]:
    return Counter(effect_id for op, effect_id, _ in h.platform.calls if op == "send")


async def test_racing_runtimes_execute_each_run_and_deliver_each_effect_once(
    pair: tuple[Harness, Runtime],
) -> None:
    h, second = pair
    runs = [await h.start(n) for n in range(RUNS)]

    await both_drain(h, second)
    drafts = h.drafter.calls
    tokens = [h.platform.latest_token(r) for r in runs]
    clicks = await asyncio.gather(
        *(
            h.platform.click((h.rt if i % 2 else second).decide, str(t), "approve", ALICE)
            for i, t in enumerate(tokens)
        )
    )
    await both_drain(h, second)

    assert drafts == RUNS  # each draft node ran in one process only
    assert [c.status if c else None for c in clicks] == [DecideStatus.APPLIED] * RUNS
    assert [len(h.platform.cards(r)) for r in runs] == [1] * RUNS
    assert [len(h.platform.public_posts(r)) for r in runs] == [1] * RUNS
    assert set(sends(h).values()) == {1}  # no effect was sent twice, not even deduplicated
    # which runtime did which step depends on scheduling; what may not vary is the above
    assert actors(h, "step") <= {"bot-1", "bot-2"}
    check_invariants(h.path, h.platform, drained=True)


def actors(h: Harness, event: str) -> set[str]:
    return {r["actor"] for r in rows(h.path, "SELECT actor FROM audit WHERE event = ?", event)}


async def test_racing_runtimes_fire_each_timer_once(pair: tuple[Harness, Runtime]) -> None:
    h, second = pair
    runs = [await h.start(n, timeout_s=600) for n in range(RUNS)]
    await both_drain(h, second)
    h.clock.advance(601)

    await asyncio.gather(h.drain(), second.drain())  # both timer passes see every wait due
    late = await h.click(runs[0], "approve", BOB)
    await both_drain(h, second)

    expired = rows(h.path, "SELECT data_json FROM audit WHERE event = 'wait.expired'")
    assert len(expired) == RUNS
    assert late is not None
    assert late.status == DecideStatus.EXPIRED
    assert h.platform.public_posts() == []
    assert set(sends(h).values()) == {1}
    check_invariants(h.path, h.platform, drained=True)


async def test_racing_runtimes_retry_a_failed_delivery_once(pair: tuple[Harness, Runtime]) -> None:
    h, second = pair
    run_id = await h.start()
    await both_drain(h, second)
    h.platform.outage(1, kind="publish")
    await h.click(run_id, "approve", ALICE)
    await both_drain(h, second)  # the publish failed once and now waits in backoff
    assert h.platform.public_posts() == []

    h.clock.advance(5)
    await both_drain(h, second)

    assert len(h.platform.public_posts(run_id)) == 1
    assert sends(h)[h.platform.public_posts(run_id)[0].effect_id] == 2  # the outage, then one
    check_invariants(h.path, h.platform, drained=True)


@pytest.mark.postgres
async def test_a_step_commit_lost_to_a_deadlock_is_retried(
    caplog: pytest.LogCaptureFixture,
) -> None:
    async with scratch_schema() as url:
        h = Harness(url)
        await h.boot()
        try:
            await deadlock_the_card_step(h, url)
            await h.drain()  # the run is still ours and runnable: the step is redone
        finally:
            await h.shutdown()

        assert "StoreConflict" in caplog.text
        assert len(h.platform.cards("run-1")) == 1
        check_invariants(url, h.platform, drained=True)


async def deadlock_the_card_step(h: Harness, url: str) -> None:
    """Hold the card's outbox id, let the step commit wait on it, then wait on its run row."""
    async with await psycopg.AsyncConnection.connect(url) as conn:
        pid = (await (await conn.execute("SELECT pg_backend_pid()")).fetchone() or [0])[0]
        # the step's side (1 s default) must be the one that checks for the deadlock and is
        # aborted; a busy machine could otherwise let our side's check run first
        await conn.execute("SET deadlock_timeout = '30s'")
        await conn.execute(
            "INSERT INTO outbox (effect_id, run_id, seq, n, kind, payload_json, dedupe_key, "
            "status, next_attempt_at, created_at, updated_at) "
            "VALUES ('run-1:3:0', 'run-1', 3, 0, 'notify', '{}', 'k', 'done', 0, 0, 0)"
        )
        await h.start(1)
        drain = asyncio.create_task(h.drain())
        await blocked_by(conn, pid)  # the step holds run-1's row and waits for our insert
        await conn.execute("UPDATE runs SET updated_at = updated_at WHERE run_id = 'run-1'")
        await conn.rollback()  # PostgreSQL aborted the step (it waited first); we give up too
        await drain


async def blocked_by(conn: psycopg.AsyncConnection[tuple[object, ...]], pid: int) -> None:
    """Return once a backend waits for a lock ``pid`` holds (bounded: a server is involved)."""
    for _ in range(500):
        cur = await conn.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE %s = ANY(pg_blocking_pids(pid))", (pid,)
        )
        row = await cur.fetchone()
        if row is not None and int(str(row[0])) > 0:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the step commit never waited for our lock")
