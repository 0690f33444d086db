"""The crash-point matrix CP1-CP10 (docs/durability.md §4.3): crash, restart, drain, check I1-I8.

A crash point raises SimulatedCrash; restart drops every in-memory object and boots a new
runtime over the same SQLite file with the same FakePlatform. CP11 (kill -9) is in
test_runtime_kill.py.
"""

import json
from pathlib import Path
from typing import Any

import pytest

from bot.models import DecideStatus
from bot.runtime import CRASH_POINTS, SimulatedCrash
from tests.support.runtime_harness import ALICE, BOB, Harness, query
from tests.support.runtime_invariants import check_invariants


async def test_cp1_crash_after_exec_regenerates_the_draft_and_posts_one_card(h: Harness) -> None:
    run_id = await h.start()
    h.crash.arm("step.after_exec", skip=1)  # pass 1 is before the draft node, pass 2 after it

    assert await h.crashing(h.drain())
    await h.drain()

    assert h.drafter.calls == 2
    assert [m.payload["card"]["draft"] for m in h.platform.cards(run_id)] == [
        "A joke about cats, take 2."
    ]
    check_invariants(h.path, h.platform, drained=True)


async def test_cp2_crash_after_the_wait_commit_sends_the_card_at_boot(h: Harness) -> None:
    run_id = await h.start()
    h.crash.arm("step.after_commit", status="waiting")

    assert await h.crashing(h.drain())
    assert h.platform.cards() == []
    await h.drain()
    result = await h.click(run_id, "approve", ALICE)
    await h.drain()

    assert len(h.platform.cards(run_id)) == 1
    assert result is not None
    assert result.status == DecideStatus.APPLIED
    assert len(h.platform.public_posts(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_cp3_card_applied_but_not_marked_is_reconciled_not_reposted(h: Harness) -> None:
    run_id = await h.start()
    h.crash.arm("outbox.after_send_before_mark", kind="review.post")

    assert await h.crashing(h.drain())
    await h.drain()
    await h.click(run_id, "approve", ALICE)
    await h.drain()

    assert len(h.platform.cards(run_id)) == 1
    assert ("reconcile", f"{run_id}:3:0", 1) in h.platform.calls
    assert query(h, "SELECT status, platform_ref FROM outbox WHERE kind = 'review.post'") == [
        ("done", "m1")
    ]
    check_invariants(h.path, h.platform, drained=True)


async def test_cp3_response_lost_is_reconciled_without_a_crash(h: Harness) -> None:
    run_id = await h.start()
    h.platform.apply_then_drop_response(1, kind="review.post")

    await h.drain()
    h.clock.advance(1)  # the retry waits out the first backoff step
    await h.drain()

    assert len(h.platform.cards(run_id)) == 1
    assert [op for op, eid, _ in h.platform.calls if eid == f"{run_id}:3:0"] == [
        "send",
        "reconcile",
    ]
    check_invariants(h.path, h.platform, drained=True)


async def test_cp4_decision_committed_before_ack_survives_and_later_clicks_see_it(
    h: Harness,
) -> None:
    run_id = await h.start()
    await h.drain()
    h.crash.arm("decide.after_commit_before_ack")

    assert await h.crashing(h.click(run_id, "approve", ALICE))
    second = await h.click(run_id, "reject", BOB)
    await h.drain()

    first = next(iter(h.platform.answers.values()))
    assert first.result is None  # the clicker saw "interaction failed"
    assert second is not None
    assert second.status == DecideStatus.ALREADY_DECIDED
    assert second.message.startswith("Already approved by @alice at ")
    assert len(h.platform.public_posts(run_id)) == 1
    assert [e["outcome"] for e in h.platform.cards(run_id)[0].edits] == ["approve"]
    check_invariants(h.path, h.platform, drained=True)


async def test_cp5_crash_inside_the_decide_transaction_rolls_everything_back(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()
    h.crash.arm("decide.in_tx")

    assert await h.crashing(h.click(run_id, "approve", ALICE))

    assert query(h, "SELECT status FROM waits") == [("pending",)]
    assert query(h, "SELECT COUNT(*) FROM outbox WHERE kind = 'review.update'") == [(0,)]
    assert query(h, "SELECT COUNT(*) FROM inbox") == [(0,)]
    retry = await h.click(run_id, "approve", ALICE)
    await h.drain()
    assert retry is not None
    assert retry.status == DecideStatus.APPLIED
    assert len(h.platform.public_posts(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_cp6_relay_posted_then_crash_is_reconciled_without_a_second_post(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()
    await h.click(run_id, "approve", ALICE)
    h.crash.arm("outbox.after_send_before_mark", kind="publish")

    assert await h.crashing(h.drain())
    await h.drain()

    assert len(h.platform.public_posts(run_id)) == 1
    assert query(h, "SELECT status FROM outbox WHERE kind = 'publish'") == [("done",)]
    check_invariants(h.path, h.platform, drained=True)


async def test_cp7_unreconcilable_relay_becomes_uncertain_with_an_alert(h: Harness) -> None:
    h.platform.lookup = False
    run_id = await h.start()
    await h.drain()
    await h.click(run_id, "approve", ALICE)
    h.crash.arm("outbox.after_send_before_mark", kind="publish")
    with pytest.raises(SimulatedCrash):
        await h.drain()

    await h.shutdown()
    h.clock.advance(h.platform.dedupe_window_s + 1)  # the bot stays down past the nonce window
    await h.boot()
    await h.drain()

    assert len(h.platform.public_posts(run_id)) == 1
    assert query(h, "SELECT status FROM outbox WHERE kind = 'publish'") == [("uncertain",)]
    assert len(h.platform.alerts()) == 1
    assert "may have been applied" in h.platform.alerts()[0].payload["text"]
    check_invariants(h.path, h.platform, drained=True)


async def test_cp8_crash_while_regenerating_after_a_reject(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()
    old = h.platform.latest_token(run_id)
    await h.click(run_id, "reject", ALICE)
    h.crash.arm("step.after_exec", skip=1)  # after the new draft's exec

    assert await h.crashing(h.drain())
    (checkpoint,) = query(h, "SELECT checkpoint_json FROM runs")[0]
    await h.drain()
    stale = await h.click(run_id, "approve", BOB, token=old)

    assert json.loads(checkpoint)["shared"]["rejected"] == ["A joke about cats, take 1."]
    assert h.drafter.calls == 3  # the lost draft was regenerated
    assert [m.payload["card"]["draft"] for m in h.platform.cards(run_id)] == [
        "A joke about cats, take 1.",
        "A joke about cats, take 3.",
    ]
    assert stale is not None
    assert stale.status == DecideStatus.STALE
    check_invariants(h.path, h.platform, drained=True)


async def test_cp9_crash_inside_the_timer_decides_the_overdue_wait_once_at_boot(h: Harness) -> None:
    run_id = await h.start(timeout_s=600)
    await h.drain()
    h.clock.advance(601)
    h.crash.arm("timer.before_decide")

    assert await h.crashing(h.drain())
    late = await h.click(run_id, "approve", ALICE)
    await h.drain()

    assert query(h, "SELECT status FROM waits") == [("expired",)]
    assert query(h, "SELECT COUNT(*) FROM inbox WHERE platform = 'system'") == [(1,)]
    assert late is not None
    assert late.status == DecideStatus.EXPIRED
    assert h.platform.public_posts() == []
    check_invariants(h.path, h.platform, drained=True)


async def _cp10_world(h: Harness, *, crash_phase: str | None) -> dict[str, Any]:
    """Two runs: one wait overdue at boot, one relay in flight; boot (maybe crashing) twice."""
    waiting = await h.start(1, timeout_s=600)
    approved = await h.start(2, timeout_s=None)
    await h.drain()
    await h.click(approved, "approve", ALICE)
    h.crash.arm("outbox.after_send_before_mark", kind="publish")
    with pytest.raises(SimulatedCrash):
        await h.drain()
    await h.shutdown()
    h.clock.advance(601)
    if crash_phase is not None:
        h.crash.arm("boot.mid_recovery", phase=crash_phase)
        with pytest.raises(SimulatedCrash):
            await h.boot()
    await h.restart()
    await h.drain()
    check_invariants(h.path, h.platform, drained=True)
    return {
        "runs": query(h, "SELECT run_id, status, seq FROM runs ORDER BY run_id"),
        "waits": query(h, "SELECT run_id, status, actor FROM waits ORDER BY run_id"),
        "outbox": query(h, "SELECT effect_id, status FROM outbox ORDER BY effect_id"),
        "posts": [(m.kind, m.run_id) for m in h.platform.messages],
        "waiting": waiting,
    }


@pytest.mark.parametrize("phase", ["timers", "outbox", "cards"])
async def test_cp10_crash_during_recovery_converges_to_the_same_state(
    tmp_path: Path, phase: str
) -> None:
    reference, crashed = Harness(tmp_path / "a.db"), Harness(tmp_path / "b.db")
    await reference.boot()
    await crashed.boot()
    try:
        expected = await _cp10_world(reference, crash_phase=None)
        actual = await _cp10_world(crashed, crash_phase=phase)
    finally:
        await reference.shutdown()
        await crashed.shutdown()

    assert actual == expected


HAPPY_PATH_POINTS = [
    p for p in CRASH_POINTS if p not in ("timer.before_decide", "boot.mid_recovery")
]


@pytest.mark.parametrize("point", HAPPY_PATH_POINTS)
async def test_any_crash_point_in_the_happy_path_still_publishes_exactly_once(
    h: Harness, point: str
) -> None:
    h.crash.arm(point)
    run_id = await h.start()
    for _ in range(4):  # a moderator clicks again if the bot died under the click
        await h.crashing(h.drain())
        token = h.platform.latest_token(run_id)
        info = None if token is None else await h.rt.wait_info(token)
        if info is not None and info.status == "pending":
            await h.crashing(h.click(run_id, "approve", ALICE))
    await h.drain()

    assert (h.crash.armed, h.crashes) == ([], 1)
    assert len(h.platform.public_posts(run_id)) == 1
    assert len(h.platform.cards(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)
