"""Outbox delivery under platform faults: backoff, reconcile-before-resend, failures, order."""

from pathlib import Path
from typing import Any

from bot.runtime import Runtime, backoff
from bot.store import open_store
from flows import AsyncFlow, AsyncNode, Effect, emit
from tests.support.runtime_flows import build_review_flow, initial_state
from tests.support.runtime_harness import ALICE, ORIGIN, PLATFORM, Harness, query
from tests.support.runtime_invariants import check_invariants


async def approved(h: Harness) -> str:
    run_id = await h.start()
    await h.drain()
    await h.click(run_id, "approve", ALICE)
    return run_id


def test_backoff_doubles_from_one_second_up_to_five_minutes() -> None:
    assert [backoff(n) for n in (1, 2, 3, 4, 9, 10, 30)] == [1, 2, 4, 8, 256, 300, 300]
    assert backoff(1, retry_after=7.5) == 7.5


async def test_outage_backs_off_then_delivers_once(h: Harness) -> None:
    h.platform.outage(3, kind="publish")
    run_id = await approved(h)

    await h.drain()
    for step in (1, 2, 4):
        h.clock.advance(step - 0.01)
        await h.drain()
        assert h.platform.public_posts(run_id) == []
        h.clock.advance(0.01)
        await h.drain()

    assert len(h.platform.public_posts(run_id)) == 1
    assert query(h, "SELECT status, attempts FROM outbox WHERE kind = 'publish'") == [("done", 4)]
    check_invariants(h.path, h.platform, drained=True)


async def test_request_lost_before_the_platform_is_reconciled_then_resent(h: Harness) -> None:
    h.platform.fail_before_apply(1, kind="publish")
    run_id = await approved(h)

    await h.drain()
    h.clock.advance(1)
    await h.drain()

    ops = [op for op, eid, _ in h.platform.calls if eid.startswith(run_id) and eid.endswith(":0")]
    assert ops[-3:] == ["send", "reconcile", "send"]
    assert len(h.platform.public_posts(run_id)) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_applied_with_lost_response_inside_the_nonce_window_without_lookup(
    h: Harness,
) -> None:
    h.platform.lookup = False
    h.platform.apply_then_drop_response(1, kind="publish")
    run_id = await approved(h)

    await h.drain()
    h.clock.advance(1)
    await h.drain()

    assert len(h.platform.public_posts(run_id)) == 1
    assert query(h, "SELECT status FROM outbox WHERE kind = 'publish'") == [("done",)]
    check_invariants(h.path, h.platform, drained=True)


async def test_permanent_failure_fails_the_effect_and_alerts_the_moderators(h: Harness) -> None:
    h.platform.permanent_failure(1, kind="publish")
    run_id = await approved(h)

    await h.drain()

    assert h.platform.public_posts(run_id) == []
    assert query(h, "SELECT status FROM outbox WHERE kind = 'publish'") == [("failed",)]
    alerts = h.platform.alerts()
    assert len(alerts) == 1
    assert "missing permission" in alerts[0].payload["text"]
    assert "notify" in [m.kind for m in h.platform.messages]  # later effects still go out
    check_invariants(h.path, h.platform, drained=True)


async def test_a_failing_alert_does_not_alert_about_itself(h: Harness) -> None:
    h.platform.permanent_failure(1, kind="publish")
    h.platform.permanent_failure(1, kind="alert")
    await approved(h)

    await h.drain()

    assert query(h, "SELECT kind, status FROM outbox WHERE kind IN ('publish', 'alert')") == [
        ("publish", "failed"),
        ("alert", "failed"),
    ]


async def test_card_update_never_overtakes_its_card(h: Harness) -> None:
    h.platform.outage(2, kind="review.post")
    run_id = await h.start()
    await h.drain()
    ((token,),) = query(h, "SELECT token FROM waits")
    await h.platform.click(h.rt.decide, token, "approve", ALICE)  # e.g. a /approve command

    await h.drain()
    assert h.platform.messages == []  # the update waits behind the card in backoff
    h.clock.advance(1)
    await h.drain()
    h.clock.advance(2)
    await h.drain()

    kinds = [m.kind for m in h.platform.messages]
    assert kinds == ["review.post", "publish", "notify"]
    assert [e["outcome"] for e in h.platform.cards(run_id)[0].edits] == ["approve"]
    check_invariants(h.path, h.platform, drained=True)


async def test_failed_card_gets_an_alert_and_its_update_is_not_sent(h: Harness) -> None:
    h.platform.permanent_failure(1, kind="review.post")
    await h.start()
    await h.drain()
    ((token,),) = query(h, "SELECT token FROM waits")

    await h.platform.click(h.rt.decide, token, "reject", ALICE)
    await h.drain()

    statuses = query(
        h, "SELECT kind, status, last_error FROM outbox WHERE kind LIKE 'review.%' ORDER BY seq"
    )
    assert statuses[:2] == [
        ("review.post", "failed", "missing permission (403)"),
        ("review.update", "failed", "no card to update"),
    ]
    assert len(h.platform.alerts()) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_reconcile_during_an_outage_is_retried_later(h: Harness) -> None:
    run_id = await approved(h)
    h.platform.apply_then_drop_response(1, kind="publish")
    h.platform.outage(2, kind="publish")  # the reconcile calls that follow fail too

    await h.drain()
    for _ in range(4):
        h.clock.advance(8)
        await h.drain()

    assert len(h.platform.public_posts(run_id)) == 1
    assert query(h, "SELECT status FROM outbox WHERE kind = 'publish'") == [("done",)]
    check_invariants(h.path, h.platform, drained=True)


async def test_restart_during_an_outage_backs_off_then_delivers_once(h: Harness) -> None:
    h.platform.outage(3, kind="publish")
    run_id = await approved(h)
    await h.drain()

    await h.restart()
    await h.drain()
    h.clock.advance(600)
    await h.drain()
    await h.restart()
    for _ in range(2):
        h.clock.advance(600)
        await h.drain()

    assert len(h.platform.public_posts(run_id)) == 1
    assert query(h, "SELECT attempts FROM outbox WHERE kind = 'publish'") == [(4,)]
    check_invariants(h.path, h.platform, drained=True)


async def test_effects_wait_for_a_sender_registered_later(tmp_path: Path) -> None:
    h = Harness(tmp_path / "late.db")
    store = await open_store(f"sqlite:///{h.path}")
    runtime = Runtime(
        store, {"review": build_review_flow(h.drafter)}, None, h.clock, runner_id="bot-1"
    )
    try:
        await runtime.start_run("review", "run-1", ORIGIN, initial_state())
        await runtime.drain()
        assert h.platform.cards() == []
        runtime.register_sender(PLATFORM, h.platform)  # the adapter connects later
        h.clock.advance(30)
        await runtime.drain()
    finally:
        await store.close()

    assert len(h.platform.cards("run-1")) == 1
    check_invariants(h.path, h.platform, drained=True)


async def test_an_effect_of_an_unknown_kind_fails_with_an_alert(tmp_path: Path) -> None:
    class Shout(AsyncNode):
        async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
            emit(Effect("shout", {"text": "hello"}))

    h = Harness(tmp_path / "odd.db")
    store = await open_store(f"sqlite:///{h.path}")
    runtime = Runtime(
        store, {"shout": AsyncFlow(Shout())}, {PLATFORM: h.platform}, h.clock, runner_id="b"
    )
    try:
        await runtime.start_run("shout", "run-1", ORIGIN, {})
        await runtime.drain()
    finally:
        await store.close()

    assert query(h, "SELECT kind, status FROM outbox ORDER BY seq, n") == [
        ("shout", "failed"),
        ("alert", "done"),
    ]
    assert "unknown effect kind 'shout'" in h.platform.alerts()[0].payload["text"]
