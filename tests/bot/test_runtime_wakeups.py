"""LISTEN/NOTIFY in the runtime: with a 60 s poll on a FakeClock that never moves on its own,
a serving process picks up work another process committed only because it was notified, and
rescans after its listening connection was killed. PostgreSQL only (SQLite polls).
"""

import json
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

import pytest

from bot.models import ScopeConfig
from bot.runtime import CrashPoints, Runtime
from bot.store import EVERY_LOOP, Store, Tx
from bot.store.postgres import PostgresStore
from flows import start_checkpoint
from tests.bot.test_store_wakeups import terminate_listener
from tests.support.clock import FakeClock
from tests.support.db import execute, rows
from tests.support.postgres import scratch_schema
from tests.support.runtime_flows import build_review_flow, initial_state
from tests.support.runtime_harness import ALICE, ORIGIN, PLATFORM, Harness
from tests.support.runtime_invariants import check_invariants
from tests.support.serving import delivered, serving, until

pytestmark = pytest.mark.postgres

POLL_S = 60.0  # never reached: the FakeClock moves only where a test advances it


class Tapped:
    """A PostgresStore that notes the clock's sleep count whenever its runtime took a rescan."""

    def __init__(self, inner: PostgresStore, clock: FakeClock) -> None:
        self.inner, self._clock = inner, clock
        self.rescans: list[int] = []  # FakeClock.sleeps when each rescan had been taken

    def transaction(self) -> AbstractAsyncContextManager[Tx]:
        return self.inner.transaction()

    def read(self) -> AbstractAsyncContextManager[Tx]:
        return self.inner.read()

    async def save_scope(self, config: ScopeConfig) -> None:
        await self.inner.save_scope(config)

    async def get_scope(self, platform: str, scope: str) -> ScopeConfig | None:
        return await self.inner.get_scope(platform, scope)

    async def schema_version(self) -> int:
        return await self.inner.schema_version()

    async def close(self) -> None:
        await self.inner.close()

    async def wakeups(self) -> AsyncGenerator[frozenset[str], None]:
        async for loops in self.inner.wakeups():
            yield loops
            if loops == EVERY_LOOP:
                # the runtime set every event and asked for the next hint without awaiting in
                # between: no loop has run since, so their next three sleeps follow the rescan
                self.rescans.append(self._clock.sleeps)


@dataclass
class Pair:
    """Process A (the harness's store) and process B (its own, tapped store), one schema."""

    h: Harness
    store_b: Tapped

    def runtime(
        self,
        store: Store,
        runner_id: str,
        *,
        concurrency: int = 4,
        crash: CrashPoints | None = None,
    ) -> Runtime:
        """A runtime with the harness's flow, platform and clock."""
        return Runtime(
            store,
            {"review": build_review_flow(self.h.drafter)},
            {PLATFORM: self.h.platform},
            self.h.clock,
            runner_id=runner_id,
            crash=crash,
            poll_s=POLL_S,
            concurrency=concurrency,
        )

    async def idle_after_rescan(self, *, loops: int = 3) -> None:
        """B took its first rescan and its three loops sleep again since (``loops`` in all)."""
        await until(lambda: len(self.store_b.rescans) == 1)
        clock, mark = self.h.clock, self.store_b.rescans[0]
        await until(lambda: clock.sleeps >= mark + 3 and clock.sleepers == loops)


@pytest.fixture
async def p() -> AsyncIterator[Pair]:
    async with scratch_schema() as url:
        h = Harness(url)
        await h.boot()
        try:
            store_b = Tapped(await PostgresStore.open(url), h.clock)
            try:
                yield Pair(h, store_b)
            finally:
                await store_b.close()
        finally:
            await h.shutdown()


def actors(h: Harness, event: str) -> set[str]:
    found = rows(h.path, "SELECT actor FROM audit WHERE event = ?", event)
    return {str(r["actor"]) for r in found}


async def test_a_run_started_by_one_process_is_drafted_and_decided_at_once_by_another(
    p: Pair,
) -> None:
    h, b = p.h, p.runtime(p.store_b, "bot-2")
    async with serving(b):
        await p.idle_after_rescan()
        run_id = await h.start()  # A commits the run; A never executes anything
        await until(lambda: len(h.platform.cards(run_id)) == 1)
        clicked = await h.click(run_id, "approve", ALICE)  # A decides: B resumes, posts, edits
        await until(lambda: len(h.platform.public_posts(run_id)) == 1)
        await until(lambda: len(h.platform.cards(run_id)[0].edits) == 1)
        await until(lambda: delivered(h.path))

    assert clicked is not None
    assert h.drafter.calls == 1
    assert actors(h, "step") == {"bot-2"}
    check_invariants(h.path, h.platform, drained=True)


async def test_the_sweeping_process_hears_of_a_timer_another_process_set(p: Pair) -> None:
    h = p.h
    assert h.store is not None
    now = h.clock.now()
    async with h.store.transaction() as tx:  # B sweeps; B never drafts (concurrency 0)
        await tx.claim_duty("timers", "bot-2", now, now + 30)
    crash_a, crash_b = CrashPoints(), CrashPoints()
    a = p.runtime(h.store, "bot-1", crash=crash_a)
    b = p.runtime(p.store_b, "bot-2", concurrency=0, crash=crash_b)
    async with serving(a), serving(b):
        await p.idle_after_rescan(loops=6)
        # A starts the run, drafts it and writes the wait: B must fire it at +5 s
        await a.start_run("review", "run-1", ORIGIN, initial_state(timeout_s=5))
        await until(lambda: len(h.platform.cards("run-1")) == 1)
        # B's timer slept until its lease renewal at +10 s; the notification moved it to +5 s
        await until(lambda: h.clock.next_deadline() == pytest.approx(now + 5))
        h.clock.advance(5)
        await until(lambda: len(h.platform.notices("run-1")) == 1)
        await until(lambda: delivered(h.path))

    assert (crash_a.hits["timer.before_decide"], crash_b.hits["timer.before_decide"]) == (0, 1)
    assert actors(h, "step") == {"bot-1"}
    check_invariants(h.path, h.platform, drained=True)


async def test_a_killed_listener_reconnects_and_its_rescan_finds_unannounced_work(
    p: Pair,
) -> None:
    h, b = p.h, p.runtime(p.store_b, "bot-2")
    async with serving(b):
        await p.idle_after_rescan()
        insert_silently(h, "run-1")  # committed without a notification: only a rescan finds it
        killed = await terminate_listener(h.url, p.store_b.inner.channel)
        await until(lambda: len(h.platform.cards("run-1")) == 1)

    assert killed == 1
    assert len(p.store_b.rescans) == 2
    assert actors(h, "step") == {"bot-2"}
    check_invariants(h.path, h.platform, drained=False)


def insert_silently(h: Harness, run_id: str) -> None:
    """A runnable run written with plain SQL, as ``start_run`` would but with no NOTIFY."""
    checkpoint = start_checkpoint(build_review_flow(h.drafter), initial_state())
    now, origin = h.clock.now(), ORIGIN.to_json()
    execute(
        h.path,
        "INSERT INTO runs (run_id, flow, origin_json, status, cursor, seq, checkpoint_json, "
        "created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?)",
        run_id,
        "review",
        json.dumps(origin),
        "running",
        "start",
        0,
        json.dumps(checkpoint),
        now,
        now,
    )
    started = {"flow": "review", "seq": 0, "status": "running", "origin": origin}
    execute(
        h.path,
        "INSERT INTO audit (run_id, at, actor, event, data_json) VALUES (?,?,?,?,?)",
        run_id,
        now,
        ORIGIN.requester.ref,
        "run.started",
        json.dumps(started),
    )
