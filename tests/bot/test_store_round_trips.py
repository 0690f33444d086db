"""Round trips of a PostgreSQL transaction: one per read the caller needs, plus one at COMMIT.

Writes whose result nobody reads (audit, effects, an inbox result, a wait) travel with the next
read or with the COMMIT; counted with ``tests.support.round_trips`` so a regression fails.
"""

from collections.abc import AsyncIterator

import pytest

from bot.models import DecideStatus
from bot.store import AuditRow, InboxRow, Store, open_store
from tests.bot.test_store_contract import a_run, a_wait, an_effect
from tests.support.postgres import scratch_schema
from tests.support.round_trips import READ, SYNC, counting_round_trips
from tests.support.runtime_harness import Harness

pytestmark = pytest.mark.postgres

POOL_CHECK = ""  # the pool's check of a connection it hands out: an empty query


@pytest.fixture
async def pg_url() -> AsyncIterator[str]:
    async with scratch_schema() as url:
        yield url


@pytest.fixture
async def store(pg_url: str) -> AsyncIterator[Store]:
    opened = await open_store(pg_url)
    try:
        async with opened.transaction() as tx:
            await tx.insert_run(a_run("r1"))
        yield opened
    finally:
        await opened.close()


async def test_writes_nobody_reads_cost_one_round_trip_with_the_commit(store: Store) -> None:
    with counting_round_trips() as trips:
        async with store.transaction() as tx:
            await tx.insert_wait(a_wait("t1"))
            await tx.insert_effects([an_effect("r1", 1, 0), an_effect("r1", 1, 1)])
            await tx.add_audit([AuditRow("r1", 1.0, "a", "e", {"k": 1})])
            await tx.set_inbox_result("fake", "i1", "applied")

    assert trips.waits == [POOL_CHECK, SYNC]


async def test_each_read_costs_one_round_trip_and_carries_the_queued_writes(
    store: Store,
) -> None:
    with counting_round_trips() as trips:
        async with store.transaction() as tx:
            await tx.insert_wait(a_wait("t1"))  # queued behind BEGIN...
            wait = await tx.get_wait("t1")  # ...and sent with this read, which sees it
            inserted = await tx.insert_inbox(InboxRow("fake", "i1", "t1", 1.0))
            await tx.add_audit([AuditRow("r1", 1.0, "a", "e", {})])

    assert wait is not None
    assert inserted
    assert trips.waits == [POOL_CHECK, READ, SYNC, SYNC]  # the read; the insert's count; COMMIT


async def test_a_read_only_snapshot_costs_one_round_trip_per_read(store: Store) -> None:
    with counting_round_trips() as trips:
        async with store.read() as tx:
            run = await tx.get_run("r1")

    assert run is not None
    assert trips.waits == [POOL_CHECK, READ, SYNC]  # BEGIN with the read; COMMIT


async def test_a_decision_costs_four_round_trips_and_the_pools_check(pg_url: str) -> None:
    h = Harness(pg_url)
    await h.boot()
    try:
        run_id = await h.start()
        await h.drain()
        with counting_round_trips() as trips:
            result = await h.click(run_id, "approve")
    finally:
        await h.shutdown()

    assert result is not None
    assert result.status == DecideStatus.APPLIED
    # BEGIN, the inbox insert and the wait read ahead; the wait's compare-and-set with the
    # run and its cards read ahead; the run's compare-and-set; then effects, audit and the
    # inbox result with NOTIFY and COMMIT
    assert trips.waits == [POOL_CHECK, SYNC, SYNC, SYNC, SYNC]
