"""Shard leases (``bot.store.shards``) and holding them (``bot.shards``), on every backend.

Time is a FakeClock: leases run out, renewals come due and deadlines pass only when a test
advances it. The serve task is a recorder of what a Discord client would have connected.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

import pytest

from bot.errors import LeaseLost
from bot.shards import hold_shards
from bot.store import Store, Tx
from bot.store.shards import ShardLeases, shard_duty, shard_holder
from tests.bot.test_store_contract import store
from tests.support.clock import FakeClock

__all__ = ["store"]  # the contract suite's parametrised fixture: every backend

LEASE = 30.0


def leases(store: Store, clock: FakeClock, name: str, *, limit: int = 0) -> ShardLeases:
    return ShardLeases(store, name, clock, count=4, limit=limit, lease_s=LEASE)


async def holders(store: Store) -> dict[int, str]:
    """Who holds each shard now (unexpired leases only)."""
    found: dict[int, str] = {}
    async with store.read() as tx:
        for shard in range(4):
            row = await tx.duty(shard_duty(shard, 4))
            if row is not None:
                found[shard] = f"{row.holder}@{row.lease_until}"
    return found


def break_store(store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    """From now on every transaction fails, as with the database unreachable."""

    def broken() -> AbstractAsyncContextManager[Tx]:
        raise OSError("connection refused")

    monkeypatch.setattr(store, "transaction", broken)


@asynccontextmanager
async def hanging() -> AsyncIterator[Tx]:
    """A transaction on a partitioned database: no answer, no error."""
    await asyncio.Event().wait()
    raise AssertionError("never answers")
    yield


def test_shards_the_holder_name_is_unique_per_process_start() -> None:
    first, second = shard_holder("host:12"), shard_holder("host:12")

    assert first != second
    assert first.startswith("host:12~")


async def test_shards_processes_share_the_shards_up_to_their_limit(store: Store) -> None:
    clock = FakeClock()
    a, b, c = (leases(store, clock, n, limit=2) for n in ("a", "b", "c"))

    got = [await a.refresh(), await b.refresh(), await c.refresh()]

    assert got == [frozenset({0, 1}), frozenset({2, 3}), frozenset()]
    assert not c.live()
    assert a.live()
    assert b.live()


async def test_shards_renewal_keeps_them_and_nobody_else_gets_them(store: Store) -> None:
    clock = FakeClock()
    a, b = leases(store, clock, "a"), leases(store, clock, "b")
    await a.refresh()

    clock.advance(LEASE * 0.9)
    kept = await a.refresh()
    clock.advance(LEASE * 0.9)  # past the first lease, within the renewed one
    other = await b.refresh()

    assert kept == frozenset(range(4))
    assert other == frozenset()
    assert a.until == clock.now() - LEASE * 0.9 + LEASE


async def test_shards_a_dead_holders_shards_are_taken_once_its_lease_ran_out(
    store: Store,
) -> None:
    clock = FakeClock()
    a, b = leases(store, clock, "a", limit=2), leases(store, clock, "b", limit=4)
    await a.refresh()
    await b.refresh()

    clock.advance(LEASE)  # a's lease ends now: not yet free (live until its last instant)
    at_end = await b.refresh()
    clock.advance(0.5)
    after = await b.refresh()

    assert at_end == frozenset({2, 3})
    assert after == frozenset(range(4))


async def test_shards_a_holder_back_from_a_pause_learns_it_lost_them(store: Store) -> None:
    clock = FakeClock()
    a, b = leases(store, clock, "a"), leases(store, clock, "b")
    await a.refresh()
    clock.advance(LEASE + 1)  # a was paused past its lease
    await b.refresh()

    assert not a.live()  # the fence says no even before a asks the database
    assert await a.refresh() == frozenset()
    assert set((await holders(store)).values()) == {f"b@{clock.now() + LEASE}"}


async def test_shards_failing_renewals_give_the_shards_up_before_the_lease_ends(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    a = leases(store, clock, "a")
    await a.refresh()
    break_store(store, monkeypatch)
    seen = []

    while a.held:
        clock.advance(max(a.next_check() - clock.now(), 0.0))
        seen.append((clock.now() - (a.until - LEASE), await a.refresh()))

    assert seen[0] == (LEASE / 3, frozenset(range(4)))  # kept while there is time
    assert seen[-1] == (LEASE * 2 / 3, frozenset())  # gone at the deadline, a third early
    assert a.stop_by() == a.until - LEASE / 3


async def test_shards_release_frees_them_for_others_at_once(store: Store) -> None:
    clock = FakeClock()
    a, b = leases(store, clock, "a"), leases(store, clock, "b")
    await a.refresh()

    await a.release()
    got = await b.refresh()

    assert got == frozenset(range(4))
    assert not a.live()


async def test_shards_release_gives_up_on_a_hung_database(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    a = leases(store, clock, "a")
    await a.refresh()
    monkeypatch.setattr(store, "transaction", hanging)

    releasing = asyncio.create_task(a.release())
    await settle(lambda: clock.sleepers > 0)
    clock.advance(LEASE / 3)
    await asyncio.wait_for(releasing, 5)
    monkeypatch.undo()

    assert not a.held
    assert set(await holders(store)) == {0, 1, 2, 3}  # still leased: they run out in time


def test_shards_leases_refuse_a_margin_that_leaves_no_time_to_renew() -> None:
    with pytest.raises(ValueError, match="margin_s"):
        ShardLeases(None, "a", FakeClock(), count=2, lease_s=30.0, margin_s=25.0)  # type: ignore[arg-type]  # never used


# ---- hold_shards -------------------------------------------------------------------------


@dataclass
class Recorder:
    """A serve(shards) that records what it connected and when it was closed."""

    clock: FakeClock
    store: Store
    events: list[tuple[str, frozenset[int], float]] = field(default_factory=list)
    closed_while_held: list[bool] = field(default_factory=list)
    fail_with: Exception | None = None

    async def serve(self, shards: frozenset[int]) -> None:
        self.events.append(("open", shards, self.clock.now()))
        try:
            if self.fail_with is not None:
                error, self.fail_with = self.fail_with, None
                raise error
            await asyncio.Event().wait()
        finally:
            self.events.append(("close", shards, self.clock.now()))
            # the closing connection's leases must still be ours (released only after)
            names = (await holders(self.store)).values()
            self.closed_while_held.append(any(n.startswith("a@") for n in names))


@asynccontextmanager
async def holding(leases: ShardLeases, recorder: Recorder) -> AsyncIterator[asyncio.Task[None]]:
    task = asyncio.create_task(hold_shards(leases, recorder.serve, recorder.clock))
    try:
        yield task
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)


async def settle(until: Callable[[], bool]) -> None:
    async with asyncio.timeout(5):
        while not until():
            await asyncio.sleep(0.001)


async def test_hold_serves_what_it_holds_and_restarts_when_the_set_changes(
    store: Store,
) -> None:
    clock = FakeClock()
    other = leases(store, clock, "b", limit=2)
    await other.refresh()  # b holds 0 and 1
    rec = Recorder(clock, store)

    async with holding(leases(store, clock, "a"), rec):
        await settle(lambda: len(rec.events) == 1)
        await other.release()  # b shuts down cleanly
        clock.advance(LEASE / 3)  # a's next refresh claims them
        await settle(lambda: len(rec.events) == 3)

    assert rec.events[:3] == [
        ("open", frozenset({2, 3}), clock.now() - LEASE / 3),
        ("close", frozenset({2, 3}), clock.now()),
        ("open", frozenset(range(4)), clock.now()),
    ]
    assert rec.events[3][0] == "close"  # closed on the way out
    assert rec.closed_while_held == [True, True]
    assert await holders(store) == {}  # then given up


async def test_hold_closes_the_connection_at_the_deadline_when_renewals_fail(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    rec = Recorder(clock, store)
    mine = leases(store, clock, "a")

    async with holding(mine, rec):
        await settle(lambda: len(rec.events) == 1)
        until = mine.until
        break_store(store, monkeypatch)
        for _ in range(10):
            await settle(lambda: clock.sleepers > 0)
            clock.advance(LEASE / 6)
            await asyncio.sleep(0.01)
        await settle(lambda: len(rec.events) == 2)

    assert rec.events[1][:2] == ("close", frozenset(range(4)))
    assert rec.events[1][2] <= until - LEASE / 3  # a third of a lease to spare
    assert len(rec.events) == 2  # nothing reconnected without a lease


async def test_hold_restarts_a_client_whose_fence_refused_at_the_next_check(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    start = clock.now()
    rec = Recorder(clock, store, fail_with=LeaseLost("lease gone, not connecting"))
    mine = leases(store, clock, "a")
    refresh, refreshes = mine.refresh, [0]

    async def counted() -> frozenset[int]:
        refreshes[0] += 1
        return await refresh()

    monkeypatch.setattr(mine, "refresh", counted)

    async with holding(mine, rec) as task:
        # after the failure: refreshed once more, then asleep until the next check
        await settle(
            lambda: (
                refreshes[0] == 2
                and clock.sleepers == 1
                and clock.next_deadline() == start + LEASE / 3
            )
        )
        assert len(rec.events) == 2  # not restarted at once
        clock.advance(LEASE / 3)
        await settle(lambda: len(rec.events) == 3)
        assert not task.done()

    assert [e[0] for e in rec.events[:3]] == ["open", "close", "open"]
    assert rec.events[2][2] == rec.events[1][2] + LEASE / 3  # at the next check, not at once


async def test_hold_ends_with_the_error_of_a_client_that_failed(store: Store) -> None:
    clock = FakeClock()
    rec = Recorder(clock, store, fail_with=RuntimeError("login refused"))
    mine = leases(store, clock, "a")

    async with holding(mine, rec) as task:
        with pytest.raises(RuntimeError, match="login refused"):
            await asyncio.wait_for(asyncio.shield(task), 5)

    assert await holders(store) == {}  # given up for the others


async def test_hold_closes_the_connection_at_the_deadline_when_the_database_hangs(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    clock = FakeClock()
    rec = Recorder(clock, store)
    mine = leases(store, clock, "a")

    async with holding(mine, rec):
        await settle(lambda: len(rec.events) == 1)
        until = mine.until
        monkeypatch.setattr(store, "transaction", hanging)
        for _ in range(10):
            await settle(lambda: clock.sleepers > 0)
            clock.advance(LEASE / 6)
            await asyncio.sleep(0.01)
        await settle(lambda: len(rec.events) == 2)
        monkeypatch.undo()  # the recorder's own check reads through the real store

    assert rec.events[1][:2] == ("close", frozenset(range(4)))
    assert rec.events[1][2] <= until - LEASE / 3
