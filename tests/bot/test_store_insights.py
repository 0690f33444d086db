"""The console's history and stats queries, on every backend: filters, search, keyset pages
stable under new runs, outcomes, and every number of the stats page counted by the store."""

import sqlite3
from collections.abc import AsyncIterator
from contextlib import closing
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest

from bot.models import HistoryCursor, HistoryEntry, HistoryFilter, Percentiles
from bot.store import AuditRow, RunRow, RunStatus, Store, Tx, WaitRow, WaitStatus, open_store
from bot.store._insights import like_pattern, rank
from bot.store._insights_sql import Sql

DAY = 86400.0
T0 = 20 * 365 * DAY  # a UTC midnight


@pytest.fixture
async def store(db_url: str) -> AsyncIterator[Store]:
    opened = await open_store(db_url)
    try:
        yield opened
    finally:
        await opened.close()


def a_run(
    run_id: str,
    created: float,
    *,
    platform: str = "discord",
    scope: str = "g1",
    requester: str = "ann",
    topic: str = "cats",
    status: RunStatus = RunStatus.WAITING,
    outcome: str = "",
) -> RunRow:
    origin = {"platform": platform, "scope": scope, "requester": {"display": requester}}
    checkpoint = {"shared": {"topic": topic, "outcome": outcome}}
    return RunRow(
        run_id, "joke", origin, status, "x", 1, checkpoint, created, created, wait_token=None
    )


def a_review(token: str, run_id: str, created: float, draft: str, **changes: Any) -> WaitRow:
    wait = WaitRow(
        token,
        run_id,
        int(changes.pop("seq", 3)),
        "review",
        ("approve", "reject", "edit", "timeout"),
        {"topic": "t", "draft": draft},
        "timeout",
        WaitStatus.PENDING,
        created,
    )
    return replace(wait, **changes)


async def add(tx: Tx, run: RunRow, *waits: WaitRow) -> None:
    if waits:
        run = replace(run, wait_token=waits[-1].token)
    assert await tx.insert_run(run)
    for wait in waits:
        await tx.insert_wait(wait)


def decided(action: str, at: float, who: str, **data: str) -> dict[str, Any]:
    return {
        "status": WaitStatus.DECIDED,
        "decision": {"action": action, "data": data},
        "actor": f"discord:{who}",
        "actor_display": who,
        "decided_at": at,
    }


async def history(store: Store, where: HistoryFilter, **kw: Any) -> list[HistoryEntry]:
    async with store.read() as tx:
        return await tx.history(where, kw.get("after"), kw.get("limit", 50))


async def seed_history(store: Store) -> None:
    async with store.transaction() as tx:
        await add(tx, a_run("r1", T0 + 10, topic="cats"), a_review("w1", "r1", T0 + 10, "Meow."))
        await add(
            tx,
            a_run(
                "r2",
                T0 + 20,
                platform="slack",
                scope="T1",
                requester="Bob",
                topic="dogs",
                status=RunStatus.FINISHED,
                outcome="published",
            ),
            a_review("w2", "r2", T0 + 20, "Woof 100%_done", **decided("approve", T0 + 30, "dana")),
        )
        await add(
            tx,
            a_run("r3", T0 + 30, topic="owls", status=RunStatus.FINISHED, outcome="gave_up"),
            a_review(
                "w3a",
                "r3",
                T0 + 30,
                "Hoot one",
                seq=3,
                **decided("reject", T0 + 40, "dana", reason="old"),
            ),
            a_review(
                "w3b",
                "r3",
                T0 + 40,
                "Hoot two",
                seq=7,
                **decided("reject", T0 + 50, "eve", reason="meh"),
            ),
        )
        await add(tx, a_run("r4", T0 + 40, status=RunStatus.FAILED, topic="fish"))
        await add(tx, a_run("r5", T0 + 50, status=RunStatus.RUNNING, topic="bees"))


async def test_store_history_lists_every_run_newest_first_with_its_outcome(store: Store) -> None:
    await seed_history(store)

    runs = await history(store, HistoryFilter())

    assert [(r.run_id, r.outcome) for r in runs] == [
        ("r5", "running"),
        ("r4", "failed"),
        ("r3", "gave_up"),
        ("r2", "published"),
        ("r1", "pending"),
    ]
    owls = runs[2]
    assert (owls.topic, owls.draft, owls.attempts) == ("owls", "Hoot two", 2)
    assert (owls.decided_by, owls.decision, owls.reason) == ("eve", "reject", "meh")
    assert (runs[3].platform, runs[3].scope, runs[3].requester) == ("slack", "T1", "Bob")


@pytest.mark.parametrize(
    ("where", "expected"),
    [
        (HistoryFilter(platform="slack"), ["r2"]),
        (HistoryFilter(queue="g1"), ["r5", "r4", "r3", "r1"]),
        (HistoryFilter(outcome="gave_up"), ["r3"]),
        (HistoryFilter(outcome="pending"), ["r1"]),
        (HistoryFilter(since=T0 + 20, until=T0 + 40), ["r3", "r2"]),
        (HistoryFilter(search="DOGS"), ["r2"]),  # the topic
        (HistoryFilter(search="bob"), ["r2"]),  # the requester
        (HistoryFilter(search="hoot ONE"), ["r3"]),  # an earlier draft
        (HistoryFilter(search="100%_"), ["r2"]),  # LIKE wildcards match only themselves
        (HistoryFilter(search="%"), ["r2"]),
        (HistoryFilter(search="zebra"), []),
        (HistoryFilter(platform="discord", outcome="failed", search="fish"), ["r4"]),
    ],
)
async def test_store_history_filters(
    store: Store, where: HistoryFilter, expected: list[str]
) -> None:
    await seed_history(store)

    assert [r.run_id for r in await history(store, where)] == expected


async def test_store_history_pages_by_keyset_stable_under_new_runs(store: Store) -> None:
    async with store.transaction() as tx:
        for i in range(7):  # two runs share each creation time: the run id breaks the tie
            await add(tx, a_run(f"r{i}", T0 + i // 2))
    first = await history(store, HistoryFilter(), limit=3)
    async with store.transaction() as tx:  # arrive between two page loads
        await add(tx, a_run("new1", T0 + 100))
        await add(tx, a_run("r3b", T0 + 1))  # same time as r3, r2: sorts after r3
    second = await history(store, HistoryFilter(), after=first[-1].cursor, limit=3)
    third = await history(store, HistoryFilter(), after=second[-1].cursor, limit=3)

    assert [r.run_id for r in first] == ["r6", "r5", "r4"]
    assert [r.run_id for r in second] == ["r3b", "r3", "r2"]
    assert [r.run_id for r in third] == ["r1", "r0"]
    assert first[-1].cursor == HistoryCursor(T0 + 2, "r4")


async def stats_of(store: Store, since: float = T0, until: float = T0 + 7 * DAY) -> Any:
    async with store.read() as tx:
        return await tx.run_stats(since, until, draft_node="draft", failure_event="llm_error")


def step(run_id: str, at: float, cursor: str) -> AuditRow:
    return AuditRow(run_id, at, "runner", "step", {"cursor": cursor})


async def test_store_run_stats_counts_requests_reviews_moderators_and_reasons(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        await add(
            tx,
            a_run("a", T0 + 5),
            a_review("a1", "a", T0 + 5, "x", **decided("approve", T0 + 15, "dana")),
        )
        await add(
            tx,
            a_run("b", T0 + 6, platform="slack"),
            a_review(
                "b1", "b", T0 + 6, "x", **decided("reject", T0 + 36, "dana", reason=" too long ")
            ),
            a_review(
                "b2",
                "b",
                T0 + 40,
                "x",
                seq=5,
                **decided("reject", T0 + 140, "eve", reason="too long"),
            ),
        )
        await add(
            tx,
            a_run("c", T0 + DAY + 1),
            a_review("c1", "c", T0 + DAY + 1, "x", **decided("edit", T0 + DAY + 21, "eve")),
            a_review(
                "c2", "c", T0 + DAY + 2, "x", seq=5, **decided("reject", T0 + DAY + 62, "eve")
            ),
        )
        await add(
            tx,
            a_run("d", T0 + DAY + 3),
            a_review(
                "d1", "d", T0 + DAY + 3, "x", status=WaitStatus.EXPIRED, actor="system:timeout"
            ),
        )
        await add(tx, a_run("e", T0 + DAY + 4), a_review("e1", "e", T0 + DAY + 4, "x"))
        await add(
            tx,
            a_run("old", T0 - 10),
            a_review("o1", "old", T0 - 10, "x", **decided("approve", T0 - 5, "zed")),
        )

    stats = await stats_of(store)

    assert dict(stats.requests) == {(T0, "discord"): 1, (T0, "slack"): 1, (T0 + DAY, "discord"): 3}
    assert dict(stats.reviews) == {
        "approved": 1,
        "edited": 1,
        "rejected": 3,
        "expired": 1,
        "pending": 1,
        "cancelled": 0,
    }
    # decision times 10, 30, 100, 20, 60 s: nearest rank p50 = 30, p95 = 100
    assert stats.decision_time == Percentiles(5, 30.0, 100.0)
    assert stats.moderators == (("eve", 3), ("dana", 2))
    assert stats.reasons == (("too long", 2), ("", 1))


async def test_store_run_stats_times_the_drafting_node_and_counts_model_failures(
    store: Store,
) -> None:
    async with store.transaction() as tx:
        await tx.add_audit(
            [
                step("a", T0 + 0.0, "draft"),
                step("b", T0 + 1.0, "draft"),
                step("a", T0 + 0.4, "review"),  # a drafted for 0.4 s
                AuditRow("b", T0 + 4.0, "flow", "flow", {"event": "llm_error"}),
                step("b", T0 + 4.0, "draft"),  # b: 3 s, then drafts again
                step("b", T0 + 11.0, "review"),  # 7 s
                step("c", T0 + DAY, "draft"),
                step("c", T0 + DAY + 1.5, "wait"),  # 1.5 s
                AuditRow("c", T0 + DAY + 1.5, "flow", "flow", {"event": "llm_error"}),
                AuditRow("c", T0 + DAY + 2, "flow", "flow", {"event": "screened_out"}),
                step("x", T0 + 8 * DAY, "draft"),
                step("x", T0 + 8 * DAY + 9, "review"),  # outside the range
            ]
        )

    stats = await stats_of(store)
    empty = await stats_of(store, T0 + 30 * DAY, T0 + 31 * DAY)

    assert stats.llm_calls == 4
    assert stats.drafting == Percentiles(4, 1.5, 7.0)
    assert dict(stats.drafting_buckets) == {
        "< 0.5 s": 1,
        "0.5-1 s": 0,
        "1-2 s": 1,
        "2-5 s": 1,
        "5-10 s": 1,
        "≥ 10 s": 0,
    }
    assert dict(stats.llm_failures) == {T0: 1, T0 + DAY: 1}
    assert empty.drafting == Percentiles(0, None, None)
    assert empty.decision_time == Percentiles(0, None, None)
    assert dict(empty.requests) == {}
    assert sum(empty.reviews.values()) == 0


@pytest.mark.parametrize(
    ("count", "p", "expected"),
    [(1, 0.5, 0), (1, 0.95, 0), (5, 0.5, 2), (5, 0.95, 4), (20, 0.95, 18)],
)
def test_rank_is_the_nearest_rank(count: int, p: float, expected: int) -> None:
    assert rank(count, p) == expected


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("A%b_c\\") == "%a\\%b\\_c\\\\%"


@pytest.mark.parametrize(
    ("name", "params"),
    [
        ("history", 1),
        ("requests", 2),
        ("reviews", 2),
        ("decision_time", 3),
        ("moderators", 3),
        ("reasons", 3),
        ("drafting_times", 3),
        ("llm_failures", 3),
    ],
)
async def test_sqlite_plans_read_through_the_v10_indexes(
    tmp_path: Path, name: str, params: int
) -> None:
    opened = await open_store(f"sqlite:///{tmp_path / 'plan.db'}")
    await opened.close()
    sql = getattr(Sql("sqlite"), name)()
    keyset = Sql("sqlite").history("(r.created_at, r.run_id) < (?, ?)")

    with closing(sqlite3.connect(tmp_path / "plan.db")) as db:
        plan = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {sql}", [0] * params)]
        paged = [row[3] for row in db.execute(f"EXPLAIN QUERY PLAN {keyset}", [0] * 3)]

    outer = plan[0] if not plan[0].startswith("CO-ROUTINE") else plan[2]
    assert "USING INDEX" in outer, plan  # never a full scan of runs, waits or audit
    assert paged[0].startswith("SEARCH r USING INDEX runs_created"), paged  # a seek, no OFFSET
