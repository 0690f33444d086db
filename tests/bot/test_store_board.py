"""The console's store reads, on every backend: queue rows, a run's waits and effects, the audit
tail after a seq, routes, and the bell rung after (only) a committed audit write."""

import asyncio
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.models import Surface
from bot.store import (
    AuditRow,
    OutboxRow,
    Ringing,
    RunRow,
    RunStatus,
    Store,
    WaitRow,
    WaitStatus,
    open_store,
)


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = await open_store(db_url)
    try:
        yield opened
    finally:
        await opened.close()


def a_run(run_id: str, platform: str = "discord") -> RunRow:
    origin = {"platform": platform, "scope": "g1"}
    return RunRow(run_id, "joke", origin, RunStatus.WAITING, "AwaitReview", 3, {}, 10.0, 10.0)


def a_review(token: str, run_id: str, created: float, **changes: object) -> WaitRow:
    wait = WaitRow(
        token,
        run_id,
        3,
        "review",
        ("approve", "reject"),
        {"topic": "cats", "draft": f"draft {token}"},
        "timeout",
        WaitStatus.PENDING,
        created,
    )
    return replace(wait, **changes)  # type: ignore[arg-type]


def a_card(run_id: str, token: str, n: int, kind: str = "review.post") -> OutboxRow:
    return OutboxRow(
        f"{run_id}:{n}",
        run_id,
        3,
        n,
        kind,
        {"token": token, "surface": {"platform": "slack", "channel": "C1"}},
        f"k{n}",
        20.0 + n,
        token=token,
    )


async def test_store_reviews_lists_one_status_newest_activity_first(store: Store) -> None:
    async with store.transaction() as tx:
        for run_id in ("r1", "r2", "r3"):
            await tx.insert_run(a_run(run_id, "slack" if run_id == "r2" else "discord"))
        await tx.insert_wait(a_review("old", "r1", 100.0))
        await tx.insert_wait(a_review("new", "r2", 300.0))
        await tx.insert_wait(a_review("gone", "r3", 50.0, status=WaitStatus.DECIDED))
        await tx.insert_wait(replace(a_review("t", "r3", 400.0), kind="other"))

    async with store.read() as tx:
        pending = await tx.reviews(WaitStatus.PENDING, 0.0, 10)
        recent = await tx.reviews(WaitStatus.PENDING, 200.0, 10)
        one = await tx.reviews(WaitStatus.PENDING, 0.0, 1)
        decided = await tx.reviews(WaitStatus.DECIDED, 0.0, 10)

    assert [r.wait.token for r in pending] == ["new", "old"]
    assert [r.origin["platform"] for r in pending] == ["slack", "discord"]
    assert pending[0].run_status == RunStatus.WAITING
    assert [r.wait.token for r in recent] == ["new"]
    assert [r.wait.token for r in one] == ["new"]
    assert [r.wait.token for r in decided] == ["gone"]


async def test_store_reviews_orders_decided_ones_by_decision_time(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1"))
        await tx.insert_wait(a_review("a", "r1", 100.0))
        await tx.insert_wait(a_review("b", "r1", 200.0))
    async with store.transaction() as tx:
        for token, at in (("a", 500.0), ("b", 300.0)):
            wait = await tx.get_wait(token)
            assert wait is not None
            closed = replace(wait, status=WaitStatus.DECIDED, decided_at=at, actor="slack:U1")
            assert await tx.close_wait(closed)

    async with store.read() as tx:
        decided = await tx.reviews(WaitStatus.DECIDED, 400.0, 10)
        every = await tx.reviews(WaitStatus.DECIDED, 0.0, 10)

    assert [r.wait.token for r in decided] == ["a"]
    assert [r.wait.token for r in every] == ["a", "b"]


async def test_store_run_waits_and_effects_belong_to_the_run_in_order(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1"))
        await tx.insert_run(a_run("r2"))
        await tx.insert_wait(a_review("w1", "r1", 100.0))
        await tx.insert_wait(replace(a_review("w2", "r1", 200.0), seq=5))
        await tx.insert_wait(a_review("x", "r2", 100.0))
        await tx.insert_effects(
            [a_card("r1", "w1", 1, "review.update"), a_card("r1", "w1", 0), a_card("r2", "x", 0)]
        )

    async with store.read() as tx:
        waits = await tx.run_waits("r1")
        effects = await tx.run_effects("r1")
        none = await tx.run_waits("nope")

    assert [w.token for w in waits] == ["w1", "w2"]
    assert [(e.effect_id, e.kind) for e in effects] == [
        ("r1:0", "review.post"),
        ("r1:1", "review.update"),
    ]
    assert none == []


async def test_store_audit_since_pages_after_a_seq(store: Store) -> None:
    async with store.read() as tx:
        empty = await tx.last_audit_id()
    async with store.transaction() as tx:
        await tx.add_audit([AuditRow("r1", float(i), "x", f"e{i}", {"i": i}) for i in range(5)])

    async with store.read() as tx:
        last = await tx.last_audit_id()
        every = await tx.audit_since(0, 100)
        page = await tx.audit_since(every[1].id or 0, 2)
        after_last = await tx.audit_since(last, 100)

    assert empty == 0
    assert [a.event for a in every] == ["e0", "e1", "e2", "e3", "e4"]
    assert last == every[-1].id
    assert [a.event for a in page] == ["e2", "e3"]
    assert [a.data for a in page] == [{"i": 2}, {"i": 3}]
    assert after_last == []


async def test_store_all_routes_lists_every_scope(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.add_route("slack", "T1", Surface("discord", "c2"), 2.0)
        await tx.add_route("discord", "g1", Surface("console", "web"), 3.0)
        await tx.add_route("discord", "g1", Surface("slack", "C1"), 1.0)

    async with store.read() as tx:
        routes = await tx.all_routes()

    assert routes == [
        ("discord", "g1", Surface("slack", "C1")),
        ("discord", "g1", Surface("console", "web")),
        ("slack", "T1", Surface("discord", "c2")),
    ]


async def audit_then_crash(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.add_audit([AuditRow("r1", 1.0, "x", "rolled back")])
        raise RuntimeError("crash")


async def test_store_bell_rings_after_a_committed_audit_write_only(store: Store) -> None:
    assert isinstance(store, Ringing)
    woken = asyncio.create_task(store.bell.wait(store.bell.rings))
    await asyncio.sleep(0)

    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1"))  # no audit row: no ring
    silent = store.bell.rings
    with pytest.raises(RuntimeError, match="crash"):
        await audit_then_crash(store)
    after_rollback = store.bell.rings
    async with store.transaction() as tx:
        await tx.add_audit([AuditRow("r1", 1.0, "x", "kept")])
    await asyncio.wait_for(woken, 5)

    assert (silent, after_rollback, store.bell.rings) == (0, 0, 1)
