"""Two store objects (two processes, as far as the database can tell) racing for one row.

Every compare-and-set and claim must have exactly one winner on every backend: SQLite gets it
from ``BEGIN IMMEDIATE`` serialising writers; PostgreSQL from row locks and the WHERE being
re-checked on the committed row (``bot/store/_pg_outbox.py``).
"""

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import TypeVar

import pytest

from bot.store import InboxRow, RunRow, Store, Tx, WaitStatus, open_store
from tests.bot.test_store_contract import a_run, a_wait, an_effect

T = TypeVar("T")
ROUNDS = 10


@pytest.fixture
async def stores(db_url: str) -> AsyncIterator[tuple[Store, Store]]:
    first = await open_store(db_url)
    try:
        second = await open_store(db_url)
        try:
            yield first, second
        finally:
            await second.close()
    finally:
        await first.close()


async def race(stores: tuple[Store, Store], op: Callable[[Tx, int], Awaitable[T]]) -> list[T]:
    """Run ``op`` in a write transaction on each store at once; both results."""

    async def one(store: Store, i: int) -> T:
        async with store.transaction() as tx:
            return await op(tx, i)

    return list(await asyncio.gather(one(stores[0], 0), one(stores[1], 1)))


async def seed(store: Store, n: int) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run(f"r{n}"))
        await tx.insert_wait(a_wait(f"t{n}", f"r{n}"))
        await tx.insert_effects([an_effect(f"r{n}", 1, 0)])


def winners(results: list[object]) -> int:
    return sum(1 for r in results if r not in (None, False))


async def test_racing_claim_run_has_one_winner(stores: tuple[Store, Store]) -> None:
    for n in range(ROUNDS):
        await seed(stores[0], n)

        got = await race(stores, lambda tx, i: tx.claim_run(f"r{n}", f"bot-{i}", 100.0, 130.0))  # noqa: B023

        assert winners(list(got)) == 1, got


async def test_racing_claim_effect_has_one_winner(stores: tuple[Store, Store]) -> None:
    for n in range(ROUNDS):
        await seed(stores[0], n)

        got = await race(stores, lambda tx, i: tx.claim_effect(f"r{n}:1:0", f"bot-{i}", 1.0, 31.0))  # noqa: B023

        assert winners(list(got)) == 1, got


async def test_racing_close_wait_has_one_winner(stores: tuple[Store, Store]) -> None:
    for n in range(ROUNDS):
        await seed(stores[0], n)

        async def close(tx: Tx, i: int) -> bool:
            closed = replace(a_wait(f"t{n}", f"r{n}"), status=WaitStatus.DECIDED)  # noqa: B023
            closed.decision, closed.actor = {"action": f"a{i}"}, f"mod-{i}"
            return await tx.close_wait(closed)

        got = await race(stores, close)

        async with stores[1].read() as tx:
            wait = await tx.get_wait(f"t{n}")
        assert winners(list(got)) == 1, got
        assert wait is not None
        assert wait.decision == {"action": f"a{got.index(True)}"}


async def test_racing_inbox_inserts_have_one_winner(stores: tuple[Store, Store]) -> None:
    for n in range(ROUNDS):
        got = await race(stores, lambda tx, i: tx.insert_inbox(InboxRow("fake", f"i{n}", "t", i)))  # noqa: B023

        assert winners(list(got)) == 1, got


async def test_racing_save_run_on_the_same_seq_has_one_winner(stores: tuple[Store, Store]) -> None:
    for n in range(ROUNDS):
        await seed(stores[0], n)

        def step(tx: Tx, i: int) -> Awaitable[bool]:
            new: RunRow = a_run(f"r{n}", seq=1, cursor=f"by-{i}")  # noqa: B023
            return tx.save_run(new, expect_seq=0, expect_runner=None)

        got = await race(stores, step)

        assert winners(list(got)) == 1, got


async def test_racing_takeover_of_an_expired_lease_has_one_winner(
    stores: tuple[Store, Store],
) -> None:
    for n in range(ROUNDS):
        await seed(stores[0], n)
        async with stores[0].transaction() as tx:
            await tx.claim_run(f"r{n}", "crashed", 0.0, 30.0)

        got = await race(stores, lambda tx, i: tx.claim_run(f"r{n}", f"bot-{i}", 31.0, 61.0))  # noqa: B023

        assert winners(list(got)) == 1, got


async def test_racing_claims_of_a_duty_have_one_winner(stores: tuple[Store, Store]) -> None:
    for n in range(ROUNDS):
        name = f"duty-{n}"
        if n % 2:  # half the rounds race for an expired lease, half for a new row
            async with stores[0].transaction() as tx:
                await tx.claim_duty(name, "crashed", 0.0, 30.0)

        got = await race(stores, lambda tx, i: tx.claim_duty(name, f"bot-{i}", 31.0, 61.0))  # noqa: B023

        assert winners(list(got)) == 1, got
