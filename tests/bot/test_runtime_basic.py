"""Runtime behaviour without crashes: start, decide answers, edits, timeouts, failures, serve."""

import asyncio
import json
from pathlib import Path

import pytest

from adapters._review import button_id, parse_button_id
from bot.models import DecideStatus
from bot.runtime import TIMER_ACTOR
from tests.support.runtime_flows import Drafter
from tests.support.runtime_harness import ALICE, BOB, MALLORY, ORIGIN, Harness, query
from tests.support.runtime_invariants import check_invariants


async def test_runtime_approve_publishes_once_and_closes_the_card(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()

    result = await h.click(run_id, "approve", ALICE)
    await h.drain()

    assert result is not None
    assert result.status == DecideStatus.APPLIED
    assert [m.payload["text"] for m in h.platform.public_posts(run_id)] == [
        "A joke about cats, take 1."
    ]
    assert [e["outcome"] for e in h.platform.cards(run_id)[0].edits] == ["approve"]
    assert h.platform.cards(run_id)[0].edits[0]["actor"] == "@alice"
    assert [m.payload["text"] for m in h.platform.notices(run_id)] == [
        "Your joke was approved and posted."
    ]
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_start_run_is_idempotent_on_run_id(h: Harness) -> None:
    first = await h.rt.start_run("review", "discord:1", ORIGIN, {"topic": "cats"})
    again = await h.rt.start_run("review", "discord:1", ORIGIN, {"topic": "dogs"})
    await h.drain()

    assert (first, again) == (("discord:1", True), ("discord:1", False))
    assert [m.payload["card"]["topic"] for m in h.platform.cards()] == ["cats"]


async def test_runtime_start_run_refuses_an_unknown_flow(h: Harness) -> None:
    with pytest.raises(ValueError, match="unknown flow 'nope'"):
        await h.rt.start_run("nope", "r", ORIGIN, {})


async def test_runtime_card_token_effect_ids_and_dedupe_keys_are_well_formed(h: Harness) -> None:
    await h.start(1)
    await h.start(2)
    await h.drain()

    tokens = [str(m.payload["token"]) for m in h.platform.cards()]
    keys = [str(r[1]) for r in query(h, "SELECT effect_id, dedupe_key FROM outbox")]
    ids = [str(r[0]) for r in query(h, "SELECT effect_id FROM outbox ORDER BY effect_id")]
    assert len(set(tokens)) == 2
    assert all(
        t.isalnum() and parse_button_id(button_id(t, "approve")) == (t, "approve") for t in tokens
    )
    assert all(len(k) <= 25 and k.isalnum() for k in keys)
    assert ids == ["run-1:3:0", "run-2:3:0"]  # run_id:seq:n


async def test_runtime_reject_regenerates_and_the_old_card_is_stale(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()
    old = h.platform.latest_token(run_id)

    rejected = await h.click(run_id, "reject", ALICE, reason="not funny")
    await h.drain()
    stale = await h.click(run_id, "approve", BOB, token=old)

    assert rejected is not None
    assert rejected.status == DecideStatus.APPLIED
    assert stale is not None
    assert stale.status == DecideStatus.STALE
    assert "replaced by a newer one" in stale.message
    assert stale.decided_by == "@alice"
    assert len(h.platform.cards(run_id)) == 2
    assert h.platform.cards(run_id)[0].edits[0]["reason"] == "not funny"
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_a_rejected_draft_is_never_proposed_again(tmp_path: Path) -> None:
    h = Harness(
        tmp_path / "bot.db", drafter=Drafter("Same joke.", "same joke", "SAME  joke!", "New joke.")
    )
    await h.boot()
    try:
        run_id = await h.start()
        await h.drain()
        await h.click(run_id, "reject", ALICE)
        await h.drain()

        drafts = [m.payload["card"]["draft"] for m in h.platform.cards(run_id)]
        assert drafts == ["Same joke.", "New joke."]
        assert h.drafter.calls == 4
        check_invariants(h.path, h.platform, drained=True)
    finally:
        await h.shutdown()


async def test_runtime_too_many_rejections_give_up_with_a_notice(h: Harness) -> None:
    run_id = await h.start(max_attempts=2)
    await h.drain()
    await h.click(run_id, "reject", ALICE)
    await h.drain()
    await h.click(run_id, "reject", ALICE)
    await h.drain()

    assert h.platform.public_posts(run_id) == []
    assert [m.payload["text"] for m in h.platform.notices(run_id)] == [
        "No acceptable joke this time."
    ]
    assert query(h, "SELECT status FROM runs") == [("finished",)]
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_edit_publishes_the_moderators_text(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()

    result = await h.click(run_id, "edit", ALICE, text="A better joke.")
    await h.drain()

    assert result is not None
    assert result.status == DecideStatus.APPLIED
    assert [m.payload["text"] for m in h.platform.public_posts(run_id)] == ["A better joke."]
    assert h.platform.cards(run_id)[0].edits[0]["text"] == "A better joke."
    check_invariants(h.path, h.platform, drained=True)


@pytest.mark.parametrize(
    ("action", "data"),
    [("edit", {"text": "   "}), ("edit", {}), ("dance", {}), ("timeout", {})],  # timeout: timer's
)
async def test_runtime_invalid_decisions_change_nothing(
    h: Harness, action: str, data: dict[str, str]
) -> None:
    run_id = await h.start()
    await h.drain()

    invalid = await h.click(run_id, action, ALICE, **data)
    later = await h.click(run_id, "approve", ALICE)

    assert invalid is not None
    assert invalid.status == DecideStatus.INVALID
    assert later is not None
    assert later.status == DecideStatus.APPLIED
    check_invariants(h.path, h.platform, drained=False)


async def test_runtime_forbidden_click_leaves_the_wait_pending(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()

    forbidden = await h.click(run_id, "approve", MALLORY)
    allowed = await h.click(run_id, "approve", BOB)
    await h.drain()

    assert forbidden is not None
    assert forbidden.status == DecideStatus.FORBIDDEN
    assert forbidden.message == "Only moderators can decide on jokes."
    assert allowed is not None
    assert allowed.status == DecideStatus.APPLIED
    assert len(h.platform.public_posts(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_unknown_token_is_not_found(h: Harness) -> None:
    result = await h.platform.click(h.rt.decide, "deadbeef", "approve", ALICE)

    assert result is not None
    assert result.status == DecideStatus.NOT_FOUND


async def test_runtime_timeout_expires_the_wait_and_publishes_nothing(h: Harness) -> None:
    run_id = await h.start(timeout_s=600)
    await h.drain()

    h.clock.advance(601)
    await h.drain()
    late = await h.click(run_id, "approve", ALICE)

    assert late is not None
    assert late.status == DecideStatus.EXPIRED
    assert h.platform.public_posts() == []
    assert [e["outcome"] for e in h.platform.cards(run_id)[0].edits] == ["timeout"]
    assert [m.payload["text"] for m in h.platform.notices(run_id)] == [
        "Nobody reviewed your joke in time."
    ]
    assert query(h, "SELECT status, actor FROM waits") == [("expired", TIMER_ACTOR)]
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_click_after_expiry_loses_even_before_the_timer_fires(h: Harness) -> None:
    run_id = await h.start(timeout_s=600)
    await h.drain()

    h.clock.advance(600)  # exactly at expires_at: the timer wins
    result = await h.click(run_id, "approve", ALICE)
    await h.drain()

    assert result is not None
    assert result.status == DecideStatus.EXPIRED
    assert h.platform.public_posts() == []
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_click_just_before_expiry_wins(h: Harness) -> None:
    run_id = await h.start(timeout_s=600)
    await h.drain()

    h.clock.advance(599.999)
    result = await h.click(run_id, "approve", ALICE)
    h.clock.advance(1)
    await h.drain()

    assert result is not None
    assert result.status == DecideStatus.APPLIED
    assert len(h.platform.public_posts(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_a_failing_node_fails_the_run_with_an_alert(h: Harness) -> None:
    run_id = await h.start(topic="boom")
    await h.drain()

    ((status, error),) = query(h, "SELECT status, error FROM runs")
    events = [e for (e,) in query(h, "SELECT event FROM audit")]
    assert status == "failed"
    assert "the drafting model exploded" in str(error)
    assert "run.failed" in events
    assert [m.run_id for m in h.platform.alerts()] == [run_id]
    assert "exploded" in h.platform.alerts()[0].payload["text"]
    check_invariants(h.path, h.platform, drained=True)


async def test_runtime_wait_info_shows_the_card(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()
    token = h.platform.latest_token(run_id)
    assert token is not None

    info = await h.rt.wait_info(token)
    missing = await h.rt.wait_info("nope")

    assert info is not None
    assert (info.run_id, info.kind, info.status) == (run_id, "review", "pending")
    assert info.payload["draft"] == "A joke about cats, take 1."
    assert info.allowed == ("approve", "reject", "edit", "timeout")
    assert missing is None


async def test_runtime_audit_records_every_change_with_the_actor(h: Harness) -> None:
    run_id = await h.start()
    await h.drain()
    await h.click(run_id, "approve", ALICE)
    await h.drain()

    rows = query(h, "SELECT actor, event, data_json FROM audit WHERE event = 'wait.decided'")
    assert [(a, e, json.loads(str(d))["action"]) for a, e, d in rows] == [
        ("fake:alice", "wait.decided", "approve")
    ]
    check_invariants(h.path, h.platform, drained=True)


async def until(condition: object, *, rounds: int = 500) -> None:
    """Let background tasks run (real aiosqlite threads) until ``condition()`` holds."""
    assert callable(condition)
    for _ in range(rounds):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


async def test_runtime_serve_runs_loops_woken_by_new_work_and_the_clock(h: Harness) -> None:
    server = asyncio.create_task(h.rt.serve())
    try:
        run_id = await h.start(timeout_s=60)
        await until(lambda: len(h.platform.cards(run_id)) == 1)
        await h.click(run_id, "reject", ALICE)
        await until(lambda: len(h.platform.cards(run_id)) == 2)

        await until(lambda: h.clock.sleepers == 3)  # worker, outbox and timer loops idle
        h.clock.advance(60)
        await until(lambda: len(h.platform.notices(run_id)) == 1)
    finally:
        server.cancel()
        with pytest.raises(asyncio.CancelledError):
            await server

    assert h.platform.notices(run_id)[0].payload["text"] == "Nobody reviewed your joke in time."
    check_invariants(h.path, h.platform, drained=True)
