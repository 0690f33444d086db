"""The expiry sweep is a singleton duty: only the process holding the ``timers`` lease sweeps,
another takes over when the holder releases it or its lease runs out, and a sweep that lost
its lease midway still expires each wait exactly once. On SQLite and PostgreSQL.
"""

import asyncio
from collections.abc import AsyncIterator

import pytest

from bot.runtime._context import Context
from bot.runtime._crash import CrashPoints
from bot.runtime._timers import TIMER_DUTY, expire, sweep
from bot.store import DutyRow, Store, open_store
from bot.store.duty import DutyLease
from tests.support.db import rows
from tests.support.runtime_harness import Harness
from tests.support.runtime_invariants import check_invariants
from tests.support.serving import delivered, serving, until

LEASE_S = 30.0  # the runtime's default lease_s: the duty is asked for again every 10 s
RUNS = 4


def wait_status(h: Harness, run_id: str) -> str:
    found = rows(h.path, "SELECT status FROM waits WHERE run_id = ?", run_id)
    return str(found[-1]["status"])


async def duty_row(store: Store) -> DutyRow | None:
    async with store.read() as tx:
        return await tx.duty(TIMER_DUTY)


@pytest.mark.parametrize("handover", ["released", "expired"])
async def test_only_the_holder_of_the_timers_duty_sweeps_until_it_lets_go(
    h: Harness, handover: str
) -> None:
    assert h.store is not None
    now = h.clock.now()
    async with h.store.transaction() as tx:  # another process holds the sweep
        assert await tx.claim_duty(TIMER_DUTY, "bot-2", now, now + LEASE_S)
    async with serving(h.rt):
        run_id = await h.start(timeout_s=5)
        await until(lambda: len(h.platform.cards(run_id)) == 1)
        await until(lambda: h.clock.sleepers == 3)
        h.clock.advance(6)  # overdue, but bot-2 holds the duty; bot-1 does not ask before +10 s
        await until(lambda: h.clock.sleepers == 3)
        while_held = wait_status(h, run_id)
        if handover == "released":  # bot-2 shut down cleanly
            async with h.store.transaction() as tx:
                await tx.release_duty(TIMER_DUTY, "bot-2")
            h.clock.advance(5)  # bot-1 asks again a third of a lease after it last asked
        else:  # bot-2 died: its lease runs out at +30 s
            for _ in range(5):
                await until(lambda: h.clock.sleepers == 3)
                h.clock.advance(5)
            assert wait_status(h, run_id) == "pending"
            h.clock.advance(6)
        await until(lambda: len(h.platform.notices(run_id)) == 1)
        await until(lambda: delivered(h.path))
        taken = await duty_row(h.store)
    await h.rt.release()

    assert while_held == "pending"
    assert taken is not None
    assert taken.holder == "bot-1"
    assert await duty_row(h.store) is None  # given up on shutdown
    check_invariants(h.path, h.platform, drained=True)


@pytest.fixture
async def other(h: Harness) -> AsyncIterator[Store]:
    """A second store object on the harness's database: another process."""
    store = await open_store(h.url)
    try:
        yield store
    finally:
        await store.close()


def context(store: Store, h: Harness, runner_id: str) -> Context:
    return Context(store, {}, {}, h.clock, runner_id, CrashPoints(), LEASE_S)


async def overdue_waits(h: Harness) -> None:
    for n in range(RUNS):
        await h.start(n, timeout_s=600)
    await h.drain()
    h.clock.advance(601)


async def test_a_holder_whose_lease_was_taken_over_is_fenced_and_does_not_sweep(
    h: Harness, other: Store
) -> None:
    assert h.store is not None
    first, second = context(h.store, h, "bot-1"), context(other, h, "bot-2")
    lease_1 = DutyLease(h.store, TIMER_DUTY, "bot-1", h.clock, LEASE_S)
    lease_2 = DutyLease(other, TIMER_DUTY, "bot-2", h.clock, LEASE_S)
    assert await lease_1.hold()
    await overdue_waits(h)  # bot-1 paused past its lease meanwhile
    assert await lease_2.hold()  # bot-2 took the expired lease over

    await asyncio.gather(sweep(first, lease_1), sweep(second, lease_2))

    assert not lease_1.held()  # its renewal failed: the row is bot-2's
    assert first.crash.hits["timer.before_decide"] == 0
    assert second.crash.hits["timer.before_decide"] == RUNS
    expired = rows(h.path, "SELECT token FROM waits WHERE status = 'expired'")
    assert len(expired) == RUNS


async def test_a_sweep_that_lost_its_lease_midway_still_expires_each_wait_once(
    h: Harness, other: Store
) -> None:
    assert h.store is not None
    first, second = context(h.store, h, "bot-1"), context(other, h, "bot-2")
    await overdue_waits(h)
    async with h.store.read() as tx:  # bot-1, holding the lease, lists the overdue waits...
        listed = await tx.due_waits(h.clock.now(), 100)
    lease_2 = DutyLease(other, TIMER_DUTY, "bot-2", h.clock, LEASE_S)
    assert await lease_2.hold()  # ...pauses past its lease; bot-2 takes over and sweeps
    await sweep(second, lease_2)

    late = [await expire(first, token) for token in listed]  # bot-1 resumes its sweep

    assert len(listed) == RUNS
    assert late == [False] * RUNS  # every compare-and-set missed: nothing decided twice
    timeouts = rows(h.path, "SELECT result FROM inbox WHERE platform = 'system'")
    assert [r["result"] for r in timeouts] == ["applied"] * RUNS
    await h.drain()
    check_invariants(h.path, h.platform, drained=True)
