"""Wake-up hints (``Wakeable``): PostgreSQL notifies the other processes of committed work on
``jokebot_<schema>``; the listener rescans after every (re)connect; SQLite offers none.
"""

import asyncio
from collections.abc import AsyncGenerator, AsyncIterator
from dataclasses import replace
from pathlib import Path

import psycopg
import pytest

from bot.store import EVERY_LOOP, RunStatus, Store, Wakeable, open_store
from bot.store._pg_listen import APPLICATION_NAME, channel_for, loops_of
from bot.store.postgres import PostgresStore
from tests.bot.test_store_contract import a_run, a_wait, an_effect
from tests.support.postgres import scratch_schema

HINT_S = 10.0  # bounded: a server and its connections are involved


@pytest.fixture
async def pair() -> AsyncIterator[tuple[PostgresStore, PostgresStore]]:
    """Two stores (two processes) on one scratch schema."""
    async with scratch_schema() as url:
        first = await PostgresStore.open(url)
        try:
            second = await PostgresStore.open(url)
            try:
                yield first, second
            finally:
                await second.close()
        finally:
            await first.close()


async def hint(hints: AsyncGenerator[frozenset[str], None]) -> frozenset[str]:
    return await asyncio.wait_for(anext(hints), HINT_S)


async def outbox_marker(store: Store, n: int) -> None:
    """A commit that notifies ``outbox``: whatever hint came before it came from earlier work."""
    async with store.transaction() as tx:
        await tx.insert_effects([an_effect(f"marker-{n}", 1, 0)])


@pytest.mark.postgres
async def test_commits_that_create_work_notify_the_other_processes(
    pair: tuple[PostgresStore, PostgresStore],
) -> None:
    writer, listener = pair
    hints = listener.wakeups()
    try:
        got = [await hint(hints)]  # connected: rescan everything
        async with writer.transaction() as tx:
            await tx.insert_run(a_run("r1"))
        got.append(await hint(hints))
        async with writer.transaction() as tx:
            await tx.insert_wait(a_wait("t1", "r1", expires_at=40.0))  # due in 30 s
            await tx.insert_effects([an_effect("r1", 1, 0)])
        got.append(await hint(hints))
        async with writer.transaction() as tx:  # a run resumed after a decision
            await tx.save_run(
                replace(a_run("r1"), status=RunStatus.RESUMING, seq=1),
                expect_seq=0,
                expect_runner=None,
            )
        got.append(await hint(hints))
        async with writer.transaction() as tx:
            await tx.claim_run("r1", "bot-1", 0.0, 30.0)
        async with writer.transaction() as tx:  # a clean shutdown frees the lease
            await tx.release_leases("bot-1")
        got.append(await hint(hints))
    finally:
        await hints.aclose()

    assert got == [
        EVERY_LOOP,
        {"runs"},
        {"timers", "outbox"},
        {"runs"},
        {"runs"},
    ]


@pytest.mark.postgres
async def test_commits_without_new_work_rollbacks_and_own_commits_notify_nobody(
    pair: tuple[PostgresStore, PostgresStore],
) -> None:
    writer, listener = pair
    hints = listener.wakeups()
    try:
        assert await hint(hints) == EVERY_LOOP
        async with writer.transaction() as tx:
            await tx.insert_run(a_run("r1"))
        assert await hint(hints) == {"runs"}
        async with writer.transaction() as tx:  # claims notify nobody
            await tx.claim_run("r1", "bot-1", 0.0, 30.0)
            await tx.claim_duty("timers", "bot-1", 0.0, 30.0)
        async with writer.transaction() as tx:  # a step commit under our lease: we deliver
            step = replace(a_run("r1"), seq=1, runner_id="bot-1", lease_until=30.0)
            assert await tx.save_run(step, expect_seq=0, expect_runner="bot-1")
            await tx.insert_wait(a_wait("t1", "r1"))  # no timer
            await tx.insert_effects([an_effect("r1", 1, 0)])
        async with writer.transaction() as tx:  # a timer due in an hour: the next poll sees it
            await tx.insert_wait(a_wait("t2", "r1", expires_at=3610.0))
        with pytest.raises(RuntimeError):
            await rolled_back(writer)
        async with listener.transaction() as tx:  # the listener's own work: its runtime knows
            await tx.insert_run(a_run("r3"))
        await outbox_marker(writer, 1)
        after = await hint(hints)
    finally:
        await hints.aclose()

    assert after == {"outbox"}


async def rolled_back(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r2"))
        raise RuntimeError("rolled back: nothing is delivered")


async def terminate_listener(url: str, channel: str) -> int:
    """pg_terminate_backend the session listening on ``channel``; how many were killed."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as admin:
        for _ in range(int(HINT_S / 0.01)):
            cursor = await admin.execute(
                "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                "WHERE application_name = %s AND query LIKE %s",
                (APPLICATION_NAME, f"LISTEN %{channel}%"),
            )
            if killed := len(await cursor.fetchall()):
                return killed
            await asyncio.sleep(0.01)
    return 0


@pytest.mark.postgres
async def test_a_killed_listener_connection_reconnects_and_rescans(
    pair: tuple[PostgresStore, PostgresStore],
) -> None:
    writer, listener = pair
    hints = listener.wakeups()
    try:
        first = await hint(hints)
        killed = await terminate_listener(listener.url, listener.channel)
        again = await hint(hints)  # reconnected (after a short backoff): rescan everything
        async with writer.transaction() as tx:
            await tx.insert_run(a_run("r1"))
        later = await hint(hints)
    finally:
        await hints.aclose()

    assert (first, killed, again, later) == (EVERY_LOOP, 1, EVERY_LOOP, frozenset({"runs"}))


@pytest.mark.postgres
async def test_closing_the_store_ends_the_hints() -> None:
    async with scratch_schema() as url:
        store = await PostgresStore.open(url)
        hints = store.wakeups()
        try:
            assert await hint(hints) == EVERY_LOOP
            await store.close()
            with pytest.raises(StopAsyncIteration):
                await hint(hints)  # within the listener's 1 s tick
        finally:
            await hints.aclose()
            await store.close()


async def test_sqlite_offers_no_wakeups(tmp_path: Path) -> None:
    store = await open_store(f"sqlite:///{tmp_path / 'bot.db'}")
    try:
        assert not isinstance(store, Wakeable)
    finally:
        await store.close()


def test_channel_names_fit_an_identifier_and_payloads_name_loops() -> None:
    assert channel_for("jk_abc") == "jokebot_jk_abc"
    assert len(channel_for("s" * 63)) <= 63
    assert channel_for("s" * 63) != channel_for("s" * 62 + "t")
    assert loops_of("outbox,runs abc", "xyz") == {"runs", "outbox"}
    assert loops_of("outbox,runs abc", "abc") == frozenset()
    assert loops_of("bogus,timers abc", "xyz") == {"timers"}
