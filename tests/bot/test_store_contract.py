"""The Store contract, run against every backend: SQLite and PostgreSQL (``db_url``)."""

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import replace
from typing import Any

import psycopg
import pytest

from bot.models import Installation, ScopeConfig, Surface
from bot.store import (
    AuditRow,
    EffectStatus,
    InboxRow,
    OutboxRow,
    RequestRow,
    RequestState,
    RunRow,
    RunStatus,
    Store,
    Tx,
    WaitRow,
    WaitStatus,
    open_store,
)
from bot.store.migrations import LATEST


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = await open_store(db_url)
    try:
        yield opened
    finally:
        await opened.close()


def a_run(run_id: str = "r1", **changes: object) -> RunRow:
    run = RunRow(
        run_id, "flow", {"platform": "fake"}, RunStatus.RUNNING, "start", 0, {"s": 1}, 10.0, 10.0
    )
    for name, value in changes.items():
        setattr(run, name, value)
    return run


def a_wait(name: str = "t1", run_id: str = "r1", expires_at: float | None = None) -> WaitRow:
    return WaitRow(
        name,
        run_id,
        1,
        "review",
        ("approve", "reject"),
        {"draft": "x"},
        "timeout",
        WaitStatus.PENDING,
        10.0,
        expires_at,
    )


def an_effect(run_id: str, seq: int, n: int, at: float = 0.0) -> OutboxRow:
    return OutboxRow(
        f"{run_id}:{seq}:{n}",
        run_id,
        seq,
        n,
        "notify",
        {"text": "hi"},
        "key",
        0.0,
        next_attempt_at=at,
    )


async def test_store_migrates_to_latest(store: Store) -> None:
    assert await store.schema_version() == LATEST


async def test_store_insert_run_is_idempotent(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.insert_run(a_run())
        second = await tx.insert_run(a_run(flow="other"))

    async with store.read() as tx:
        run = await tx.get_run("r1")

    assert (first, second) == (True, False)
    assert run is not None
    assert run.flow == "flow"
    assert run.checkpoint == {"s": 1}


async def test_store_transaction_rolls_back_on_any_exception(store: Store) -> None:
    class Crash(BaseException):
        pass

    async def crash_mid_transaction() -> None:
        async with store.transaction() as tx:
            await tx.insert_run(a_run())
            raise Crash

    with pytest.raises(Crash):
        await crash_mid_transaction()

    async with store.read() as tx:
        assert await tx.get_run("r1") is None


# a write whose result nobody reads may be sent only with the next read or the COMMIT
# (PostgreSQL's pipeline): its failure must still raise from the block and roll it all back
DUPLICATES: dict[str, Callable[[Tx], Awaitable[object]]] = {
    "wait": lambda tx: tx.insert_wait(a_wait("t1")),
    "effects": lambda tx: tx.insert_effects([an_effect("r1", 1, 0)]),
    "link code": lambda tx: tx.add_link_code("CODE", "discord", "g1", expires_at=1.0),
}
FAILED_WRITE = (sqlite3.IntegrityError, psycopg.IntegrityError)


async def seeded_with_duplicates(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1"))
        for write in DUPLICATES.values():
            await write(tx)


@pytest.mark.parametrize("duplicate", DUPLICATES)
async def test_store_a_failing_last_write_raises_from_the_block_and_rolls_back(
    store: Store, duplicate: str
) -> None:
    await seeded_with_duplicates(store)

    async def ends_with_the_duplicate() -> None:
        async with store.transaction() as tx:
            await tx.insert_run(a_run("r2"))
            await tx.add_audit([AuditRow("r2", 1.0, "a", "e", {})])
            await DUPLICATES[duplicate](tx)

    with pytest.raises(FAILED_WRITE):
        await ends_with_the_duplicate()

    async with store.read() as tx:
        assert await tx.get_run("r2") is None
        assert await tx.audit("r2") == []


@pytest.mark.parametrize("duplicate", DUPLICATES)
async def test_store_a_failing_write_stops_the_block_at_the_latest_at_its_next_read(
    store: Store, duplicate: str
) -> None:
    await seeded_with_duplicates(store)
    reached: list[str] = []

    async def reads_after_the_duplicate() -> None:
        async with store.transaction() as tx:
            await tx.add_audit([AuditRow("r1", 1.0, "a", "e", {})])
            await DUPLICATES[duplicate](tx)
            await tx.get_run("r1")
            reached.append("after the read")
            await tx.insert_run(a_run("r2"))

    with pytest.raises(FAILED_WRITE):
        await reads_after_the_duplicate()

    async with store.read() as tx:
        assert await tx.get_run("r2") is None
        assert await tx.audit("r1") == []
    assert reached == []


async def test_store_reads_after_writes_see_the_writes(store: Store) -> None:
    # on PostgreSQL, closing a wait reads its run and cards ahead: a write in between wins
    waiting = a_run("run-t1", status=RunStatus.WAITING)
    waiting.wait_token = a_wait("t1").token
    async with store.transaction() as tx:
        await tx.insert_run(waiting)
        await tx.insert_wait(a_wait("t1", "run-t1"))
        await tx.insert_effects([a_card("t1", 1, 0, "review.post", "pending")])
    closed = replace(a_wait("t1", "run-t1"), status=WaitStatus.DECIDED, decision={"action": "a"})

    async with store.transaction() as tx:
        inserted = await tx.insert_inbox(InboxRow("fake", "i1", "t1", 1.0))
        await tx.set_inbox_result("fake", "i1", "applied")
        wait = await tx.get_wait("t1")
        first = await tx.close_wait(closed)
        await tx.save_run(a_run("run-t1", seq=1), expect_seq=0, expect_runner=None)
        run = await tx.get_run("run-t1")
        await tx.insert_effects([a_card("t1", 2, 0, "review.post", "pending")])
        cards = await tx.card_effects("t1")
        inbox = await tx.get_inbox("fake", "i1")
        second = await tx.close_wait(closed)
        after = await tx.get_wait("t1")

    assert inserted
    assert wait is not None
    assert wait.status == WaitStatus.PENDING
    assert (first, second) == (True, False)
    assert run is not None
    assert (run.seq, run.status) == (1, RunStatus.RUNNING)
    assert [c.effect_id for c in cards] == ["run-t1:1:0", "run-t1:2:0"]
    assert inbox is not None
    assert inbox.result == "applied"
    assert after is not None
    assert after.status == WaitStatus.DECIDED


async def test_store_save_run_is_compare_and_set_on_seq_and_runner(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run(runner_id="me"))
        ok = await tx.save_run(a_run(seq=1, runner_id="me"), expect_seq=0, expect_runner="me")
        stale_seq = await tx.save_run(a_run(seq=2), expect_seq=0, expect_runner="me")
        wrong_runner = await tx.save_run(a_run(seq=2), expect_seq=1, expect_runner="other")

    assert (ok, stale_seq, wrong_runner) == (True, False, False)


async def test_store_claim_run_respects_unexpired_leases(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run())
        mine = await tx.claim_run("r1", "a", now=100.0, until=130.0)
        theirs = await tx.claim_run("r1", "b", now=110.0, until=140.0)
        runnable_for_b = await tx.runnable_runs("b", 110.0, 10)
        taken_over = await tx.claim_run("r1", "b", now=131.0, until=161.0)

    assert mine is not None
    assert mine.runner_id == "a"
    assert theirs is None
    assert runnable_for_b == []
    assert taken_over is not None
    assert taken_over.runner_id == "b"


async def test_store_close_wait_is_compare_and_set(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run())
        await tx.insert_wait(a_wait())
        wait = a_wait()
        wait.status, wait.decision, wait.actor, wait.decided_at = (
            WaitStatus.DECIDED,
            {"action": "approve"},
            "x",
            11.0,
        )
        first = await tx.close_wait(wait)
        second = await tx.close_wait(wait)
        stored = await tx.get_wait("t1")

    assert (first, second) == (True, False)
    assert stored is not None
    assert stored.decision == {"action": "approve"}
    assert stored.allowed == ("approve", "reject")


async def test_store_due_waits_are_pending_and_overdue_earliest_first(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run())
        for token, at in (("late", 50.0), ("early", 20.0), ("never", None), ("future", 500.0)):
            await tx.insert_wait(a_wait(token, expires_at=at))

    async with store.read() as tx:
        due = await tx.due_waits(100.0, 10)
        nxt = await tx.next_expiry()

    assert due == ["early", "late"]
    assert nxt == 20.0


async def test_store_inbox_rejects_a_second_delivery(store: Store) -> None:
    async with store.transaction() as tx:
        first = await tx.insert_inbox(InboxRow("discord", "i1", "t1", 1.0))
        again = await tx.insert_inbox(InboxRow("discord", "i1", "t1", 2.0))
        other_platform = await tx.insert_inbox(InboxRow("slack", "i1", "t1", 2.0))
        await tx.set_inbox_result("discord", "i1", "applied")
        row = await tx.get_inbox("discord", "i1")

    assert (first, again, other_platform) == (True, False, True)
    assert row is not None
    assert row.result == "applied"


async def test_store_due_effects_are_heads_of_their_runs(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_effects([an_effect("a", 1, 0), an_effect("a", 1, 1), an_effect("a", 2, 0)])
        await tx.insert_effects([an_effect("b", 3, 0, at=50.0), an_effect("b", 4, 0)])

    async with store.read() as tx:
        due = await tx.due_effects(10.0, "me", 10)
        nxt = await tx.next_effect_due("me")

    assert [e.effect_id for e in due] == ["a:1:0"]  # b:4:0 waits behind b:3:0 (in backoff)
    assert nxt == 0.0


async def test_store_claimed_effect_is_not_due_for_others_but_is_for_its_claimant(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        await tx.insert_effects([an_effect("a", 1, 0)])
        claimed = await tx.claim_effect("a:1:0", "me", now=10.0, until=40.0)
        other = await tx.claim_effect("a:1:0", "other", now=11.0, until=41.0)
        due_other = await tx.due_effects(11.0, "other", 10)
        due_me = await tx.due_effects(11.0, "me", 10)

    assert claimed is not None
    assert claimed.claimed_by == "me"
    assert other is None
    assert due_other == []
    assert [e.effect_id for e in due_me] == ["a:1:0"]


async def test_store_update_effect_checks_the_claim(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_effects([an_effect("a", 1, 0)])
        row = await tx.claim_effect("a:1:0", "me", now=10.0, until=40.0)
        assert row is not None
        row.status, row.platform_ref, row.claimed_by = EffectStatus.DONE, "m1", None
        stolen = await tx.update_effect(row, expect_claim="other")
        mine = await tx.update_effect(row, expect_claim="me")
        stored = await tx.get_effect("a:1:0")

    assert (stolen, mine) == (False, True)
    assert stored is not None
    assert stored.status == "done"
    assert stored.platform_ref == "m1"


async def test_store_card_effects_by_token(store: Store) -> None:
    cards = [an_effect("a", 1, 1), an_effect("a", 1, 0), an_effect("a", 1, 2)]
    for card in cards[:2]:
        card.kind, card.token = "review.post", "t1"
    cards[2].kind, cards[2].token = "review.update", "t1"
    async with store.transaction() as tx:
        await tx.insert_effects(cards)
        found = await tx.card_effects("t1")
        missing = await tx.card_effects("t2")

    assert [e.effect_id for e in found] == ["a:1:0", "a:1:1"]
    assert missing == []


async def test_store_audit_keeps_order_and_data(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.add_audit(
            [AuditRow("r1", 1.0, "x", "one", {"k": [1]}), AuditRow("r2", 2.0, "y", "two")]
        )
        await tx.add_audit([AuditRow("r1", 3.0, "z", "three")])

    async with store.read() as tx:
        r1 = await tx.audit("r1")
        everything = await tx.audit()

    assert [(a.event, a.data) for a in r1] == [("one", {"k": [1]}), ("three", {})]
    assert len(everything) == 3


async def test_store_scopes_round_trip_and_replace(store: Store) -> None:
    await store.save_scope(ScopeConfig("discord", "g1", "mods", "jokes", "role"))
    await store.save_scope(ScopeConfig("discord", "g1", "mods2", "jokes2"))

    assert await store.get_scope("discord", "g1") == ScopeConfig(
        "discord", "g1", "mods2", "jokes2", ""
    )
    assert await store.get_scope("slack", "g1") is None


async def test_store_scope_screen_settings_round_trip(store: Store) -> None:
    screened = ScopeConfig("slack", "T1", "C1", "C2", "", ("heck", "dang*", "two words"), 0.35)
    await store.save_scope(ScopeConfig("slack", "T1", "C1", "C2"))
    await store.save_scope(screened)
    await store.save_scope(ScopeConfig("slack", "T2", "C1", "C2", "", ("ünïcode",), 1.0))

    async with store.read() as tx:
        listed = await tx.scopes("slack")

    assert await store.get_scope("slack", "T1") == screened
    assert [(c.scope, c.blocked_words, c.screen_threshold) for c in listed] == [
        ("T1", ("heck", "dang*", "two words"), 0.35),
        ("T2", ("ünïcode",), 1.0),
    ]
    await store.save_scope(ScopeConfig("slack", "T1", "C1", "C2"))  # cleared again
    assert await store.get_scope("slack", "T1") == ScopeConfig("slack", "T1", "C1", "C2")


async def test_store_pending_waits_of_one_scope_oldest_first(store: Store) -> None:
    here = {"platform": "discord", "scope": "g1"}
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1", origin=here))
        await tx.insert_run(a_run("r2", origin={"platform": "discord", "scope": "g2"}))
        await tx.insert_wait(replace(a_wait("late", "r1"), created_at=20.0))
        await tx.insert_wait(replace(a_wait("early", "r1"), created_at=10.0))
        await tx.insert_wait(a_wait("elsewhere", "r2"))
        closed = replace(a_wait("done", "r1"), status=WaitStatus.DECIDED)
        await tx.insert_wait(closed)

    async with store.read() as tx:
        waits = await tx.pending_waits("discord", "g1")

    assert [w.token for w in waits] == ["early", "late"]


async def test_store_open_effects_counts_pending_and_in_flight(store: Store) -> None:
    done = replace(an_effect("a", 1, 1), status=EffectStatus.DONE)
    in_flight = replace(an_effect("a", 1, 2), status=EffectStatus.IN_FLIGHT)
    async with store.transaction() as tx:
        await tx.insert_effects([an_effect("a", 1, 0), done, in_flight, an_effect("b", 1, 0)])

    async with store.read() as tx:
        counts = (await tx.open_effects("a"), await tx.open_effects("c"))

    assert counts == (2, 0)


async def test_store_release_leases_frees_only_that_runners_runs(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_run(a_run("r1"))
        await tx.insert_run(a_run("r2"))
        await tx.claim_run("r1", "a", now=100.0, until=130.0)
        await tx.claim_run("r2", "b", now=100.0, until=130.0)
        released = await tx.release_leases("a")
        b_may_take_r1 = await tx.claim_run("r1", "b", now=101.0, until=131.0)
        a_may_take_r2 = await tx.claim_run("r2", "a", now=101.0, until=131.0)

    assert released == 1
    assert b_may_take_r1 is not None
    assert a_may_take_r2 is None


async def test_store_routes_are_added_once_listed_in_order_and_removed(store: Store) -> None:
    slack, second = Surface("slack", "CMOD"), Surface("discord", "other-mods")
    async with store.transaction() as tx:
        first = await tx.add_route("discord", "g1", slack, 1.0)
        again = await tx.add_route("discord", "g1", slack, 2.0)
        await tx.add_route("discord", "g1", second, 3.0)
        await tx.add_route("discord", "g2", slack, 4.0)
    async with store.transaction() as tx:
        listed = await tx.routes("discord", "g1")
        removed = await tx.remove_route("discord", "g1", slack)
        gone = await tx.remove_route("discord", "g1", slack)
        left = await tx.routes("discord", "g1")

    assert (first, again) == (True, False)
    assert listed == [slack, second]
    assert (removed, gone) == (True, False)
    assert left == [second]


async def test_store_link_codes_are_single_use_and_expire(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.add_link_code("ABCD-EFGH", "discord", "g1", expires_at=100.0)
        await tx.add_link_code("JKLM-NPQR", "slack", "T1", expires_at=50.0)
    async with store.transaction() as tx:
        taken = await tx.take_link_code("ABCD-EFGH", now=60.0)
        twice = await tx.take_link_code("ABCD-EFGH", now=60.0)
        expired = await tx.take_link_code("JKLM-NPQR", now=60.0)
        unknown = await tx.take_link_code("ZZZZ-ZZZZ", now=60.0)

    assert taken == ("discord", "g1")
    assert twice is None
    assert expired is None
    assert unknown is None


def a_card(token: str, seq: int, n: int, kind: str, status: str) -> OutboxRow:
    row = an_effect(f"run-{token}", seq, n)
    row.kind, row.token, row.status = kind, token, EffectStatus(status)
    return row


async def test_store_lists_reviews_for_the_boot_card_check(store: Store) -> None:
    waits = [a_wait(f"t{i}", f"run-t{i}") for i in range(5)]
    for i, wait in enumerate(waits):
        wait.created_at = 10.0 + i
    for i, wait in enumerate(waits[2:], start=1):
        wait.status, wait.decided_at = WaitStatus.DECIDED, 100.0 + i
    effects = [
        a_card("t2", 1, 0, "review.post", "done"),  # decided, no update: listed
        a_card("t3", 1, 0, "review.post", "done"),  # decided, update done: not listed
        a_card("t3", 2, 0, "review.update", "done"),
        a_card("t4", 1, 0, "review.post", "done"),  # decided, one update failed: listed
        a_card("t4", 2, 0, "review.update", "done"),
        a_card("t4", 2, 1, "review.update", "failed"),
    ]
    async with store.transaction() as tx:
        for i, wait in enumerate(waits):
            await tx.insert_run(a_run(f"run-t{i}"))
            await tx.insert_wait(wait)
        await tx.insert_effects(effects)
    async with store.read() as tx:
        pending = await tx.pending_reviews(10)
        first = await tx.pending_reviews(1)
        closed = await tx.closed_reviews_to_update(10)
        updates = await tx.card_updates("t4")
        none = await tx.card_updates("t0")

    assert [w.token for w in pending] == ["t0", "t1"]
    assert [w.token for w in first] == ["t0"]
    assert [w.token for w in closed] == ["t4", "t2"]  # most recently decided first
    assert [e.effect_id for e in updates] == ["run-t4:2:0", "run-t4:2:1"]
    assert none == []


# Requests: the door (cooldown, a scope's queue and slots, status)


def a_request(
    run_id: str, *, scope: str = "s1", who: str = "fake:u1", at: float = 10.0, max_active: int = 1
) -> RequestRow:
    return RequestRow(
        run_id,
        "flow",
        "fake",
        scope,
        who,
        f"topic of {run_id}",
        {"platform": "fake", "scope": scope},
        {"topic": run_id},
        max_active,
        RequestState.QUEUED,
        at,
    )


async def test_store_insert_request_is_idempotent_and_numbers_rows_in_order(store: Store) -> None:
    first, second = a_request("q1"), a_request("q2")
    async with store.transaction() as tx:
        inserted = [await tx.insert_request(first), await tx.insert_request(second)]
        again = await tx.insert_request(a_request("q1", who="fake:other"))

    async with store.read() as tx:
        stored = await tx.get_request("q1")
        missing = await tx.get_request("nope")

    assert (inserted, again) == ([True, True], False)
    assert first.id is not None
    assert second.id is not None
    assert first.id < second.id
    assert stored == first
    assert stored is not None
    assert stored.shared == {"topic": "q1"}
    assert missing is None


async def test_store_last_request_at_is_the_requesters_latest(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_request(a_request("q1", at=10.0))
        await tx.insert_request(a_request("q2", at=25.0))
        await tx.insert_request(a_request("q3", who="fake:u2", at=40.0))

    async with store.read() as tx:
        latest = await tx.last_request_at("fake:u1")
        never = await tx.last_request_at("fake:u9")

    assert (latest, never) == (25.0, None)


async def test_store_queue_is_first_come_first_served_and_admission_is_compare_and_set(
    store: Store,
) -> None:
    rows = [a_request(f"q{i}") for i in range(3)] + [a_request("other", scope="s2")]
    async with store.transaction() as tx:
        for row in rows:
            await tx.insert_request(row)
        admitted = await tx.admit_request("q0", 20.0)
        twice = await tx.admit_request("q0", 21.0)

    async with store.read() as tx:
        queue = await tx.queued_requests("fake", "s1", 10)
        ahead = [await tx.queued_ahead("fake", "s1", r.id or 0) for r in rows[:3]]
        scopes = await tx.queued_scopes(10)
        head = await tx.get_request("q0")

    assert (admitted, twice) == (True, False)
    assert [r.run_id for r in queue] == ["q1", "q2"]
    assert ahead == [0, 0, 1]  # q0 left the line; q1 is next, q2 behind it
    assert scopes == [("fake", "s1"), ("fake", "s2")]
    assert head is not None
    assert (head.state, head.admitted_at, head.shared) == (RequestState.ACTIVE, 20.0, {})


async def test_store_slots_are_active_requests_whose_run_is_not_over(store: Store) -> None:
    async with store.transaction() as tx:
        for run_id, status in (("a", RunStatus.WAITING), ("b", RunStatus.FINISHED)):
            await tx.insert_request(a_request(run_id))
            await tx.admit_request(run_id, 20.0)
            await tx.insert_run(a_run(run_id, status=status))
        await tx.insert_request(a_request("queued"))
        before = await tx.active_requests("fake", "s1")
        settled = await tx.settle_requests("fake", "s1", 30.0)
        after = await tx.active_requests("fake", "s1")

    async with store.read() as tx:
        done = await tx.get_request("b")
        still = await tx.get_request("a")

    assert (before, settled, after) == (1, 1, 1)
    assert done is not None
    assert (done.state, done.done_at) == (RequestState.DONE, 30.0)
    assert still is not None
    assert still.state == RequestState.ACTIVE


async def test_store_requests_of_are_newest_first_and_reviews_ahead_count_older_cards(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        for n, run_id in enumerate(("a", "b", "c")):
            await tx.insert_request(a_request(run_id, who="fake:u1" if run_id != "b" else "x:y"))
            await tx.admit_request(run_id, 20.0)
            await tx.insert_run(a_run(run_id, status=RunStatus.WAITING, wait_token=f"t{run_id}"))
            wait = a_wait(f"t{run_id}", run_id)
            wait.created_at = 30.0 + (n // 2)  # a and b at the same instant, c later
            await tx.insert_wait(wait)

    async with store.read() as tx:
        mine = await tx.requests_of("fake:u1", 10)
        ahead = [await tx.reviews_ahead("fake", "s1", t, i) for t, i in ((30.0, 1), (30.0, 2))]
        ahead_of_c = await tx.reviews_ahead("fake", "s1", 31.0, 3)

    assert [r.run_id for r in mine] == ["c", "a"]
    assert ahead == [0, 1]  # the same instant: the earlier request first
    assert ahead_of_c == 2


async def test_store_serialize_makes_a_second_transaction_wait(db_url: str) -> None:
    first, second = await open_store(db_url), await open_store(db_url)
    order: list[str] = []
    holding = asyncio.Event()

    async def hold() -> None:
        async with first.transaction() as tx:
            await tx.serialize("queue:fake:s1")
            holding.set()
            await asyncio.sleep(0.3)
            order.append("first done")

    async def follow() -> None:
        await holding.wait()
        async with second.transaction() as tx:
            await tx.serialize("queue:fake:s1")
            order.append("second in")

    try:
        await asyncio.gather(hold(), follow())
    finally:
        await first.close()
        await second.close()

    assert order == ["first done", "second in"]


async def test_store_prune_runs_deletes_their_requests(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.insert_request(a_request("old"))
        await tx.admit_request("old", 11.0)
        await tx.insert_run(a_run("old", status=RunStatus.FINISHED, updated_at=12.0))
        await tx.insert_request(a_request("waiting"))

    async with store.transaction() as tx:
        pruned = await tx.prune_runs(100.0, 10)

    async with store.read() as tx:
        gone = await tx.get_request("old")
        kept = await tx.get_request("waiting")

    assert pruned == 1
    assert gone is None
    assert kept is not None


ROTATED = "xoxe.xoxb-rotated"  # a made-up token


def an_installation(team: str = "T1", **changes: Any) -> Installation:
    return replace(
        Installation(
            "",
            team,
            f"xoxe.xoxb-{team}",
            bot_id="B1",
            bot_user_id="U1",
            scopes="commands,chat:write",
            refresh_token=f"xoxe-1-{team}",
            expires_at=43_200.0,
            app_id="A1",
            team_name="One",
            installer_id="U9",
            installed_at=10.0,
        ),
        **changes,
    )


async def test_store_installations_round_trip_and_replace(store: Store) -> None:
    first, grid = an_installation("T1"), an_installation("", enterprise_id="E1")
    grid = replace(grid, is_enterprise_install=True, expires_at=None, refresh_token="")
    async with store.transaction() as tx:
        await tx.save_installation(first)
        await tx.save_installation(grid)
        await tx.save_installation(replace(first, bot_token=ROTATED, expires_at=99.5))
    async with store.read() as tx:
        got = await tx.get_installation("", "T1")
        got_grid = await tx.get_installation("E1", "")
        missing = await tx.get_installation("", "T2")

    assert got == replace(first, bot_token=ROTATED, expires_at=99.5)
    assert got_grid == grid
    assert missing is None


async def test_store_installations_are_deleted_by_key(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.save_installation(an_installation("T1"))
        await tx.save_installation(an_installation("T2"))
    async with store.transaction() as tx:
        deleted = await tx.delete_installation("", "T1")
        again = await tx.delete_installation("", "T1")
        left = await tx.get_installation("", "T2", lock=True)

    assert (deleted, again) == (True, False)
    assert left == an_installation("T2")


async def test_store_oauth_states_are_single_use_and_expire(store: Store) -> None:
    async with store.transaction() as tx:
        await tx.add_oauth_state("s-live", expires_at=100.0)
        await tx.add_oauth_state("s-old", expires_at=50.0)
    async with store.transaction() as tx:
        taken = await tx.take_oauth_state("s-live", now=60.0)
        twice = await tx.take_oauth_state("s-live", now=60.0)
        expired = await tx.take_oauth_state("s-old", now=60.0)
        unknown = await tx.take_oauth_state("s-never", now=60.0)

    assert (taken, twice, expired, unknown) == (True, False, False, False)
