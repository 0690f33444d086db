"""Every card the bot posted is recorded durably: deleted cards are re-posted at boot, every
copy of a card is closed with its wait (issue 10 bug 17), stale closed cards are updated."""

from bot.models import DecideStatus
from bot.runtime._effects import audit, effect_row
from bot.store import OutboxRow
from tests.support.runtime_harness import ALICE, Harness, query
from tests.support.runtime_invariants import check_invariants

POSTS = "SELECT effect_id, status FROM outbox WHERE kind = 'review.post' ORDER BY seq, n"


async def posted(h: Harness, **state: object) -> tuple[str, str]:
    """A run waiting on its card; ``(run_id, token)``."""
    run_id = await h.start(1, **state)
    await h.drain()
    token = h.platform.latest_token(run_id)
    assert token is not None
    return run_id, token


async def duplicate_card(h: Harness, token: str) -> OutboxRow:
    """A second ``review.post`` for ``token`` (as an uncertain re-send leaves), delivered."""
    assert h.store is not None
    async with h.store.transaction() as tx:
        (card,) = await tx.card_effects(token)
        dup = effect_row(
            card.run_id,
            card.seq,
            card.n + 500,
            card.kind,
            card.payload,
            h.clock.now(),
            token=token,
            id_=f"{card.effect_id}:dup",
        )
        await tx.insert_effects([dup])
        await tx.add_audit(
            [audit(card.run_id, h.clock.now(), "test", "dup", effects=[dup.effect_id])]
        )
    await h.drain()
    return dup


async def test_a_card_deleted_while_down_is_reposted_once_and_works(h: Harness) -> None:
    run_id, token = await posted(h)
    (first,) = h.platform.cards(run_id)
    await h.shutdown()
    h.platform.delete(first.ref)

    await h.boot()
    await h.drain()
    await h.restart()  # a second boot finds the re-post alive: nothing more
    await h.drain()

    (card,) = h.platform.cards(run_id)
    assert card.ref != first.ref
    assert card.payload["token"] == token
    assert [s for _, s in query(h, POSTS)] == ["done", "done"]
    assert query(h, POSTS)[1][0].endswith(":repost1")
    assert [r[0] for r in query(h, "SELECT event FROM audit WHERE event = 'card.reposted'")] == [
        "card.reposted"
    ]
    result = await h.click(run_id, "approve", ALICE, token=token)
    assert result is not None
    assert result.status == DecideStatus.APPLIED
    await h.drain()
    assert [e["outcome"] for e in card.edits] == ["approve"]
    check_invariants(h.path, h.platform, drained=True)


async def test_a_click_before_the_repost_is_delivered_updates_the_new_card(h: Harness) -> None:
    run_id, token = await posted(h)
    (first,) = h.platform.cards(run_id)
    await h.shutdown()
    h.platform.delete(first.ref)
    await h.boot()

    result = await h.click(run_id, "reject", ALICE, token=token, reason="meh")
    assert result is not None
    assert result.status == DecideStatus.APPLIED
    await h.drain()

    (card,) = [c for c in h.platform.cards(run_id) if c.payload["token"] == token]
    assert card.ref != first.ref
    assert [e["outcome"] for e in card.edits] == ["reject"]
    check_invariants(h.path, h.platform, drained=True)


async def test_a_card_that_cannot_be_looked_up_is_left_alone(h: Harness) -> None:
    run_id, _ = await posted(h)
    (first,) = h.platform.cards(run_id)
    await h.shutdown()
    h.platform.delete(first.ref)
    h.platform.outage(1, kind="review.post")  # exists() cannot tell

    await h.boot()
    await h.drain()

    assert len(query(h, POSTS)) == 1
    assert h.platform.cards(run_id) == []


async def test_a_duplicated_card_gets_its_buttons_removed(h: Harness) -> None:
    run_id, token = await posted(h)
    await duplicate_card(h, token)
    assert len(h.platform.cards(run_id)) == 2

    await h.click(run_id, "approve", ALICE, token=token)
    await h.drain()

    assert [[e["outcome"] for e in c.edits] for c in h.platform.cards(run_id)] == [
        ["approve"],
        ["approve"],
    ]
    check_invariants(h.path, h.platform, drained=True)


async def test_a_review_expired_while_down_updates_every_copy_at_boot(h: Harness) -> None:
    run_id, token = await posted(h, timeout_s=600)
    await duplicate_card(h, token)
    await h.shutdown()
    h.clock.advance(601)

    await h.boot()
    await h.drain()

    assert [[e["outcome"] for e in c.edits] for c in h.platform.cards(run_id)] == [
        ["timeout"],
        ["timeout"],
    ]
    check_invariants(h.path, h.platform, drained=True)


async def test_a_failed_card_update_is_redone_at_boot_while_the_card_exists(h: Harness) -> None:
    run_id, token = await posted(h)
    h.platform.permanent_failure(1, kind="review.update")
    await h.click(run_id, "approve", ALICE, token=token)
    await h.drain()
    (card,) = h.platform.cards(run_id)
    assert card.edits == []

    await h.restart()
    await h.drain()
    await h.restart()  # done now: the next boot adds nothing
    await h.drain()

    assert [e["outcome"] for e in card.edits] == ["approve"]
    updates = query(
        h, "SELECT effect_id, status FROM outbox WHERE kind = 'review.update' ORDER BY seq, n"
    )
    assert [s for _, s in updates] == ["failed", "done"]
    assert updates[1][0].endswith(":update1")
    check_invariants(h.path, h.platform, drained=True)


async def test_a_failed_update_of_a_deleted_card_is_left(h: Harness) -> None:
    run_id, token = await posted(h)
    (card,) = h.platform.cards(run_id)
    h.platform.delete(card.ref)
    await h.click(run_id, "approve", ALICE, token=token)
    await h.drain()  # the edit gets 404: failed, alerted

    await h.restart()
    await h.drain()

    updates = query(h, "SELECT status FROM outbox WHERE kind = 'review.update'")
    assert updates == [("failed",)]
