"""Group commit of new runs (bot/runtime/_starts.py): a burst shares commits, none is lost."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager

import pytest

from bot.store import Tx
from tests.support.runtime_harness import ORIGIN, Harness, query

BURST = 50


def count_transactions(h: Harness, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Count the store's write transactions from now on (a one-item list, for mutation)."""
    assert h.store is not None
    real = h.store.transaction
    seen = [0]

    @asynccontextmanager
    async def counted() -> AsyncIterator[Tx]:
        seen[0] += 1
        async with real() as tx:
            yield tx

    monkeypatch.setattr(h.store, "transaction", counted)
    return seen


async def test_a_burst_of_requests_shares_commits_and_every_run_is_saved(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    commits = count_transactions(h, monkeypatch)

    results = await asyncio.gather(
        *(h.rt.start_run("review", f"burst:{n}", ORIGIN, {"topic": "cats"}) for n in range(BURST))
    )

    assert results == [(f"burst:{n}", True) for n in range(BURST)]
    assert commits[0] <= 3  # one for the first, one for all who queued behind it (and slack)
    rows = query(h, "SELECT run_id FROM runs ORDER BY run_id")
    assert sorted(r[0] for r in rows) == sorted(f"burst:{n}" for n in range(BURST))
    started = query(h, "SELECT COUNT(*) FROM audit WHERE event='run.started'")
    assert started == [(BURST,)]


async def test_the_same_run_twice_in_one_batch_is_created_once(h: Harness) -> None:
    first, again = await asyncio.gather(
        h.rt.start_run("review", "slack:T:1", ORIGIN, {"topic": "cats"}),
        h.rt.start_run("review", "slack:T:1", ORIGIN, {"topic": "cats"}),
    )

    assert sorted([first, again]) == [("slack:T:1", False), ("slack:T:1", True)]
    assert query(h, "SELECT COUNT(*) FROM audit WHERE event='run.started'") == [(1,)]


async def test_a_failed_batch_fails_each_of_its_requests_and_the_next_one_works(
    h: Harness, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert h.store is not None
    real = h.store.transaction
    broken = [True]

    def flaky() -> AbstractAsyncContextManager[Tx]:
        if broken[0]:
            broken[0] = False
            raise OSError("disk full")
        return real()

    monkeypatch.setattr(h.store, "transaction", flaky)

    failed = await asyncio.gather(
        *(h.rt.start_run("review", f"x:{n}", ORIGIN, {"topic": "cats"}) for n in range(3)),
        return_exceptions=True,
    )
    later = await h.rt.start_run("review", "x:later", ORIGIN, {"topic": "cats"})

    assert [type(f) for f in failed] == [OSError] * 3
    assert later == ("x:later", True)
    assert query(h, "SELECT run_id FROM runs") == [("x:later",)]
