"""What the PostgreSQL store needs beyond the shared contract: row locks that make a loser wait
and re-check, claims that skip a locked row, read-only snapshots, deadlocks surfaced as
``StoreConflict``, concurrent migration, and clear connection errors.
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable

import psycopg
import pytest
from psycopg import errors as pg_errors

from bot.errors import ConfigError, StoreConflict
from bot.store import Store, Tx, WaitStatus, open_store
from bot.store.migrations import LATEST
from bot.store.postgres import PostgresStore
from tests.bot.test_store_contract import a_run, a_wait, an_effect
from tests.support.postgres import scratch_schema

pytestmark = pytest.mark.postgres


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with scratch_schema() as url:
        yield url


@pytest.fixture
async def two(pg_url: str) -> AsyncIterator[tuple[Store, Store]]:
    first, second = await open_store(pg_url), await open_store(pg_url)
    try:
        async with first.transaction() as tx:
            await tx.insert_run(a_run("r1"))
            await tx.insert_wait(a_wait("t1"))
            await tx.insert_wait(a_wait("t2"))
            await tx.insert_effects([an_effect("r1", 1, 0)])
        yield first, second
    finally:
        await second.close()
        await first.close()


async def backend_pid(tx: Tx) -> int:
    row = await tx._one("SELECT pg_backend_pid()")  # type: ignore[attr-defined]  # PgTx helper
    return int(row[0])


async def blocked(url: str, pid: int) -> None:
    """Return once backend ``pid`` waits for a lock (bounded: a server process is involved)."""
    async with await psycopg.AsyncConnection.connect(url, autocommit=True) as conn:
        for _ in range(500):
            cur = await conn.execute("SELECT cardinality(pg_blocking_pids(%s)) > 0", (pid,))
            row = await cur.fetchone()
            if row is not None and row[0]:
                return
            await asyncio.sleep(0.01)
    raise AssertionError(f"backend {pid} never blocked")


def decided(token: str, by: str) -> Callable[[Tx], Awaitable[bool]]:
    wait = a_wait(token)
    wait.status, wait.decision, wait.actor = WaitStatus.DECIDED, {"action": by}, by
    return lambda tx: tx.close_wait(wait)


async def test_a_compare_and_set_behind_a_winner_waits_then_misses(
    pg_url: str, two: tuple[Store, Store]
) -> None:
    first, second = two
    pids: list[int] = []

    async def loser() -> bool:
        async with second.transaction() as tx:
            pids.append(await backend_pid(tx))
            wait = a_wait("t1")
            wait.status, wait.decision = WaitStatus.DECIDED, {"action": "reject"}
            return await tx.close_wait(wait)

    async with first.transaction() as tx:
        won = await decided("t1", "approve")(tx)
        task = asyncio.create_task(loser())
        while not pids:
            await asyncio.sleep(0)
        await blocked(pg_url, pids[0])  # the loser waits for our commit...
    lost = await task  # ...then re-checks status='pending' on the committed row

    async with first.read() as tx:
        wait = await tx.get_wait("t1")
    assert (won, lost) == (True, False)
    assert wait is not None
    assert wait.decision == {"action": "approve"}


async def test_a_claim_skips_a_row_another_transaction_holds(two: tuple[Store, Store]) -> None:
    first, second = two

    async with first.transaction() as tx:
        mine = await tx.claim_effect("r1:1:0", "bot-1", 1.0, 31.0)
        async with second.transaction() as other:  # returns at once, no waiting
            theirs = await other.claim_effect("r1:1:0", "bot-2", 1.0, 31.0)
            run_theirs = await other.claim_run("r1", "bot-2", 1.0, 31.0)

    assert mine is not None
    assert theirs is None
    assert run_theirs is not None  # a different row: not held by the first transaction


async def test_read_is_a_read_only_snapshot(two: tuple[Store, Store]) -> None:
    first, second = two

    with pytest.raises(pg_errors.ReadOnlySqlTransaction):
        async with first.read() as tx:
            await tx.insert_run(a_run("r2"))
    async with first.read() as tx:
        before = await tx.get_wait("t1")
        await decided_in(second, "t1")
        after = await tx.get_wait("t1")  # same snapshot: the commit above is not visible

    assert before is not None
    assert after is not None
    assert (before.status, after.status) == (WaitStatus.PENDING, WaitStatus.PENDING)


async def decided_in(store: Store, token: str) -> None:
    async with store.transaction() as tx:
        await decided(token, "approve")(tx)


async def test_a_deadlock_rolls_one_side_back_as_store_conflict(
    pg_url: str, two: tuple[Store, Store]
) -> None:
    first, second = two
    gate = asyncio.Barrier(2)

    async def cross(store: Store, one: str, then: str) -> str:
        async with store.transaction() as tx:
            await decided(one, "x")(tx)
            await gate.wait()
            await decided(then, "x")(tx)  # each waits for the other: PostgreSQL picks a victim
        return "committed"

    results = await asyncio.gather(
        cross(first, "t1", "t2"), cross(second, "t2", "t1"), return_exceptions=True
    )

    assert sorted(type(r).__name__ for r in results) == ["StoreConflict", "str"], results
    assert isinstance(next(r for r in results if isinstance(r, BaseException)), StoreConflict)
    async with second.read() as tx:  # the survivor's work is there; both stores still work
        assert (await tx.get_wait("t1"), await tx.get_wait("t2")) != (None, None)
    await decided_in(first, "t1")


async def test_two_processes_migrating_one_empty_schema_at_once(pg_url: str) -> None:
    stores = await asyncio.gather(*(PostgresStore.open(pg_url) for _ in range(3)))
    try:
        versions = [await s.schema_version() for s in stores]
    finally:
        for s in stores:
            await s.close()

    assert versions == [LATEST] * 3


async def test_an_unreachable_server_is_a_config_error_without_the_password() -> None:
    url = "postgresql://jk:s3cret@127.0.0.1:9/nowhere?connect_timeout=2"

    with pytest.raises(ConfigError, match="DATABASE_URL") as raised:
        await open_store(url)

    assert "127.0.0.1:9/nowhere" in str(raised.value)
    assert "s3cret" not in str(raised.value)
