"""Double clicks and concurrency: duplicates, racing moderators, clicks racing the timer, and
two runtimes (separate connections, separate runner ids) on one database file.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from typing import Any

import pytest

from bot.models import Actor, DecideStatus, DecisionRequest
from bot.runtime import Runtime, SimulatedCrash
from bot.store import Store, open_store
from tests.support.runtime_harness import ALICE, BOB, ORIGIN, Harness, query
from tests.support.runtime_invariants import check_invariants


@pytest.fixture
async def second(h: Harness) -> AsyncIterator[Runtime]:
    """Another bot process: its own connection to the same file and its own runner id."""
    store: Store = await open_store(h.url)
    try:
        runtime = h.new_runtime(store, "bot-2")
        await runtime.recover()
        yield runtime
    finally:
        await store.close()


async def started_with_card(h: Harness, **state: Any) -> tuple[str, str]:
    """Start a run and drain it to its review card: the run id and the card's token."""
    run_id = await h.start(**state)
    await h.drain()
    token = h.platform.latest_token(run_id)
    assert token is not None
    return run_id, token


async def test_same_interaction_delivered_twice_is_a_duplicate(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()
    h.platform.duplicate_delivery(1)

    shown = await h.click(run_id, "approve", ALICE)
    await h.drain()

    assert shown is not None
    assert shown.status == DecideStatus.APPLIED
    assert [r.status for _, r in h.platform.deliveries] == [
        DecideStatus.APPLIED,
        DecideStatus.DUPLICATE,
    ]
    assert len(h.platform.public_posts(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_same_moderator_clicking_twice_gets_applied_then_already_decided(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()

    first = await h.click(run_id, "approve", ALICE)
    h.clock.advance(0.05)
    second = await h.click(run_id, "approve", ALICE)
    await h.drain()

    assert first is not None
    assert second is not None
    assert (first.status, second.status) == (DecideStatus.APPLIED, DecideStatus.ALREADY_DECIDED)
    assert second.message == "Already approved by @alice at 00:00 UTC"
    assert len(h.platform.public_posts(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_two_moderators_at_the_same_instant_on_two_connections(
    h: Harness, second: Runtime
) -> None:
    _, token = await started_with_card(h)

    approve, reject = await asyncio.gather(
        h.platform.click(h.rt.decide, token, "approve", ALICE),
        h.platform.click(second.decide, token, "reject", BOB),
    )
    await asyncio.gather(h.drain(), second.drain())
    await h.drain()

    assert approve is not None
    assert reject is not None
    results = sorted([approve.status, reject.status])
    assert results == sorted([DecideStatus.APPLIED, DecideStatus.ALREADY_DECIDED])
    winner, loser = (
        (approve, reject) if approve.status == DecideStatus.APPLIED else (reject, approve)
    )
    assert loser.decided_by == winner.decided_by
    assert loser.message.startswith(
        f"Already {'approved' if winner is approve else 'rejected'} by "
    )
    check_invariants(h.path, h.platform, drained=True)


async def test_the_same_click_reaching_two_processes_decides_once(
    h: Harness, second: Runtime
) -> None:
    run_id, token = await started_with_card(h)
    request = DecisionRequest(token, "approve", ALICE, "i1")

    results = await asyncio.gather(h.rt.decide(request), second.decide(request))
    await asyncio.gather(h.drain(), second.drain())

    assert sorted(r.status for r in results) == sorted(
        [DecideStatus.APPLIED, DecideStatus.DUPLICATE]
    )
    assert len(h.platform.public_posts(run_id)) == 1


async def test_two_processes_draining_many_runs_relay_each_once(
    h: Harness, second: Runtime
) -> None:
    runs = [await h.start(n) for n in range(6)]
    await asyncio.gather(h.drain(), second.drain())
    for i, run_id in enumerate(runs):
        decide = h.rt.decide if i % 2 else second.decide
        token = h.platform.latest_token(run_id)
        assert token is not None
        await h.platform.click(decide, token, "approve", ALICE)

    await asyncio.gather(h.drain(), second.drain(), h.drain(), second.drain())
    await asyncio.gather(h.drain(), second.drain())

    assert [len(h.platform.public_posts(r)) for r in runs] == [1] * 6
    assert [len(h.platform.cards(r)) for r in runs] == [1] * 6
    check_invariants(h.path, h.platform, drained=True)


@pytest.mark.parametrize(
    ("offset", "expected"), [(-0.001, DecideStatus.APPLIED), (0.0, DecideStatus.EXPIRED)]
)
async def test_click_racing_the_timer_at_expiry(
    h: Harness, second: Runtime, offset: float, expected: DecideStatus
) -> None:
    run_id, token = await started_with_card(h, timeout_s=600)
    h.clock.advance(600 + offset)

    click, _ = await asyncio.gather(
        h.platform.click(h.rt.decide, token, "approve", ALICE), second.drain()
    )
    h.clock.advance(1)
    await asyncio.gather(h.drain(), second.drain())

    assert click is not None
    assert click.status == expected
    assert len(h.platform.public_posts(run_id)) == (1 if expected == DecideStatus.APPLIED else 0)
    check_invariants(h.path, h.platform, drained=True)


async def test_cross_platform_race_has_one_winner(h: Harness, second: Runtime) -> None:
    run_id, token = await started_with_card(h)
    on_discord = Actor("discord", "d1", "@dee", is_moderator=True)
    on_slack = Actor("slack", "s1", "@sam", is_moderator=True)

    a, b = await asyncio.gather(
        h.rt.decide(DecisionRequest(token, "approve", on_discord, "x1")),
        second.decide(DecisionRequest(token, "reject", on_slack, "x1")),  # same id, other platform
    )
    await h.drain()

    assert sorted([a.status, b.status]) == sorted(
        [DecideStatus.APPLIED, DecideStatus.ALREADY_DECIDED]
    )
    assert len(h.platform.cards(run_id)[0].edits) == 1


async def test_a_lease_held_by_a_crashed_process_is_taken_over_after_it_expires(
    h: Harness, second: Runtime
) -> None:
    await h.rt.start_run("review", "run-x", ORIGIN, {"topic": "cats", "timeout_s": None})
    h.crash.arm("step.after_commit", status="running")
    with pytest.raises(SimulatedCrash):
        await h.drain()
    await h.shutdown()  # bot-1 is gone, still holding the lease

    await second.drain()
    assert h.platform.cards() == []
    h.clock.advance(31)  # lease_s = 30
    await second.drain()

    assert len(h.platform.cards("run-x")) == 1


async def test_the_lease_is_renewed_while_a_long_node_runs(h: Harness, second: Runtime) -> None:
    h.drafter.gate = asyncio.Event()  # the LLM takes its time
    run_id = await h.start()
    first = asyncio.create_task(h.drain())
    try:
        await until(lambda: h.drafter.blocked == 1)
        for _ in range(4):  # 44 s > lease_s = 30 s: only renewals keep the lease alive
            await until(lambda: h.clock.sleepers == 1)  # the heartbeat is back asleep
            lease = lease_until(h)
            h.clock.advance(11)
            await until(lambda: lease_until(h) > lease)  # noqa: B023  # evaluated in the loop
        await asyncio.wait_for(second.drain(), 5)
        assert runner_of(h) == "bot-1"
    finally:
        h.drafter.gate.set()
        await first

    assert h.drafter.blocked == 1
    assert len(h.platform.cards(run_id)) == 1


def lease_until(h: Harness) -> float:
    return float(query_one(h, "SELECT lease_until FROM runs"))


def runner_of(h: Harness) -> str:
    return str(query_one(h, "SELECT runner_id FROM runs"))


def query_one(h: Harness, sql: str) -> Any:
    return query(h, sql)[0][0]


async def until(condition: Callable[[], bool], rounds: int = 500) -> None:
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.01)  # real aiosqlite threads are working
    raise AssertionError("condition never became true")
