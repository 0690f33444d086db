"""The door (``Runtime.request_run``): cooldowns and scope queues, durable and shared.

Over each backend: a request beyond its scope's limit is queued and told its place, starts when
a slot frees, exactly once, across restarts, crashes and two processes; a cooldown holds across
a restart and a second process, and a redelivered request gets its state, not a refusal.
"""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator
from dataclasses import replace

import pytest

from bot.models import Actor, Admission, Admitted
from bot.runtime import Runtime
from bot.store import open_store
from tests.support.runtime_flows import initial_state
from tests.support.runtime_harness import ALICE, ORIGIN, Harness, query
from tests.support.runtime_invariants import check_invariants


async def ask(
    rt: Runtime,
    run_id: str,
    *,
    user: str = "u1",
    scope: str = "scope1",
    max_active: int = 1,
    cooldown_s: float = 0.0,
) -> Admitted:
    origin = replace(ORIGIN, scope=scope, requester=Actor("fake", user, f"@{user}"))
    return await rt.request_run(
        "review",
        run_id,
        origin,
        initial_state(run_id),
        topic=run_id,
        cooldown_s=cooldown_s,
        max_active=max_active,
    )


def started(h: Harness) -> Counter[str]:
    """How often each run was started (its ``run.started`` audit rows)."""
    return Counter(r[0] for r in query(h, "SELECT run_id FROM audit WHERE event = 'run.started'"))


def live(h: Harness) -> int:
    """Runs drafting or waiting for review right now (the slots in use, all scopes)."""
    [(n,)] = query(h, "SELECT COUNT(*) FROM runs WHERE status NOT IN ('finished', 'failed')")
    return int(n)


async def approve_all(h: Harness, rt: Runtime) -> int:
    """Approve every card still waiting; how many."""
    pending = [r[0] for r in query(h, "SELECT run_id FROM runs WHERE status = 'waiting'")]
    for run_id in pending:
        await h.platform.click(rt.decide, h.platform.latest_token(run_id) or "", "approve", ALICE)
    return len(pending)


def carded(h: Harness) -> list[str]:
    """Runs that have a review card, in order."""
    return sorted({m.run_id for m in h.platform.cards()})


async def test_admission_beyond_the_limit_queues_in_order_and_starts_as_slots_free(
    h: Harness,
) -> None:
    answers = [await ask(h.rt, f"r{n}", user=f"u{n}", max_active=2) for n in range(5)]
    await h.drain()

    assert [(a.admission, a.position) for a in answers] == [
        (Admission.STARTED, 0),
        (Admission.STARTED, 0),
        (Admission.QUEUED, 1),
        (Admission.QUEUED, 2),
        (Admission.QUEUED, 3),
    ]
    assert carded(h) == ["r0", "r1"]

    await h.platform.click(h.rt.decide, h.platform.latest_token("r0") or "", "approve", ALICE)
    await h.drain()  # r0 finishes: its slot goes to r2 in the same commit

    assert carded(h) == ["r0", "r1", "r2"]
    assert live(h) == 2
    again = await ask(h.rt, "r4", user="u4", max_active=2)  # a redelivery: its place now
    assert (again.admission, again.position) == (Admission.QUEUED, 2)

    while await approve_all(h, h.rt):
        assert live(h) <= 2
        await h.drain()

    assert started(h) == Counter({f"r{n}": 1 for n in range(5)})
    assert live(h) == 0
    check_invariants(h.path, h.platform, drained=True)


async def test_admission_limits_each_scope_on_its_own(h: Harness) -> None:
    first = await ask(h.rt, "a1", scope="scope1")
    second = await ask(h.rt, "a2", scope="scope1")
    elsewhere = await ask(h.rt, "b1", scope="scope2")

    assert [first.admission, second.admission, elsewhere.admission] == [
        Admission.STARTED,
        Admission.QUEUED,
        Admission.STARTED,
    ]


async def test_admission_without_a_limit_starts_everything(h: Harness) -> None:
    answers = [await ask(h.rt, f"r{n}", max_active=0) for n in range(4)]

    assert {a.admission for a in answers} == {Admission.STARTED}


async def test_cooldown_says_when_and_a_redelivery_is_not_refused(h: Harness) -> None:
    first = await ask(h.rt, "r1", cooldown_s=30.0)
    h.clock.advance(10)
    redelivered = await ask(h.rt, "r1", cooldown_s=30.0)
    too_soon = await ask(h.rt, "r2", cooldown_s=30.0)
    h.clock.advance(20)
    in_time = await ask(h.rt, "r2", cooldown_s=30.0)

    assert first.admission == Admission.STARTED
    assert redelivered.admission == Admission.STARTED
    assert too_soon.admission == Admission.COOLING
    assert too_soon.retry_at == first_at(h, "r1") + 30.0
    assert query(h, "SELECT COUNT(*) FROM requests") == [(2,)]  # a refusal stores nothing
    assert in_time.admission == Admission.QUEUED  # r1 holds the one slot


def first_at(h: Harness, run_id: str) -> float:
    [(at,)] = query(h, "SELECT requested_at FROM requests WHERE run_id = ?", run_id)
    return float(at)


async def test_cooldown_holds_across_a_restart_and_a_second_process(h: Harness) -> None:
    await ask(h.rt, "r1", cooldown_s=30.0)
    await h.restart()
    h.clock.advance(5)

    after_restart = await ask(h.rt, "r2", cooldown_s=30.0)
    store = await open_store(h.url)
    try:
        other = h.new_runtime(store, "bot-2")
        from_other = await ask(other, "r3", cooldown_s=30.0)
    finally:
        await store.close()

    assert after_restart.admission == Admission.COOLING
    assert from_other.admission == Admission.COOLING
    assert after_restart.retry_at == from_other.retry_at == first_at(h, "r1") + 30.0


async def test_queued_request_survives_a_restart_and_starts_once_a_slot_frees(h: Harness) -> None:
    await ask(h.rt, "r1")
    queued = await ask(h.rt, "r2")
    await h.drain()

    await h.restart()
    await h.drain()

    assert queued.admission == Admission.QUEUED
    assert query(h, "SELECT state FROM requests WHERE run_id = 'r2'") == [("queued",)]
    assert query(h, "SELECT run_id FROM runs WHERE run_id = 'r2'") == []
    await h.click("r1", "approve")
    await h.drain()
    assert started(h) == Counter({"r1": 1, "r2": 1})
    assert h.platform.cards("r2")


async def test_crash_before_the_finishing_commit_loses_neither_the_slot_nor_the_queue(
    h: Harness,
) -> None:
    await ask(h.rt, "r1")
    await ask(h.rt, "r2")
    await h.drain()
    await h.click("r1", "approve")
    h.crash.arm("step.before_commit", run_id="r1", status="finished")

    crashed = await h.crashing(h.drain())

    assert crashed
    check_invariants(h.path, h.platform, drained=False)
    assert query(h, "SELECT state FROM requests WHERE run_id = 'r2'") == [("queued",)]
    await h.drain()  # r1 finishes again, and hands its slot over in that commit
    assert started(h) == Counter({"r1": 1, "r2": 1})
    assert query(h, "SELECT status FROM runs WHERE run_id = 'r1'") == [("finished",)]
    assert h.platform.cards("r2")


async def test_sweep_admits_when_a_slot_freed_without_an_admission(h: Harness) -> None:
    await ask(h.rt, "r1")
    await ask(h.rt, "r2")
    await h.drain()
    assert h.store is not None
    async with h.store.transaction() as tx:  # the run ended some other way
        run = await tx.get_run("r1")
        assert run is not None
        run.status = run.status.FAILED
        await tx.save_run(run, expect_seq=run.seq, expect_runner=None)

    await h.drain()

    assert started(h)["r2"] == 1
    assert query(h, "SELECT state FROM requests WHERE run_id = 'r1'") == [("done",)]


@pytest.fixture
async def second(h: Harness) -> AsyncIterator[Runtime]:
    """bot-2: another process's runtime over the harness's database."""
    store = await open_store(h.url)
    try:
        other = h.new_runtime(store, "bot-2")
        await other.recover()
        yield other
    finally:
        await store.close()


async def test_two_processes_racing_at_the_door_hand_out_each_slot_and_place_once(
    h: Harness, second: Runtime
) -> None:
    doors = [h.rt, second]

    answers = await asyncio.gather(
        *(ask(doors[n % 2], f"r{n}", user=f"u{n}", max_active=3) for n in range(12))
    )

    assert sum(a.admission == Admission.STARTED for a in answers) == 3
    assert sorted(a.position for a in answers if a.admission == Admission.QUEUED) == list(
        range(1, 10)
    )


async def test_a_redelivery_racing_its_original_in_another_process_is_not_refused(
    h: Harness, second: Runtime
) -> None:
    answers = await asyncio.gather(
        *(ask(rt, "r1", cooldown_s=30.0) for rt in (h.rt, second, h.rt, second))
    )

    assert {a.admission for a in answers} == {Admission.STARTED}
    assert started(h) == Counter({"r1": 1})


async def test_two_processes_finishing_runs_start_each_queued_request_once(
    h: Harness, second: Runtime
) -> None:
    for n in range(8):
        await ask([h.rt, second][n % 2], f"r{n}", user=f"u{n}", max_active=2)

    for _ in range(20):
        await asyncio.gather(h.drain(), second.drain())
        assert live(h) <= 2
        if not await approve_all(h, [h.rt, second][_ % 2]):
            break

    assert started(h) == Counter({f"r{n}": 1 for n in range(8)})
    assert live(h) == 0
    check_invariants(h.path, h.platform, drained=True)
    assert query(h, "SELECT COUNT(*) FROM requests WHERE state = 'queued'") == [(0,)]
