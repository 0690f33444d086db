import time
from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters._review import button_id
from adapters.slack_adapter import SlackSender, build_slack
from bot.errors import CannotReconcile, OutcomeUnknown, SendError
from bot.models import Actor, EffectKind, Origin, OutboxEffect
from bot.review import outcome_line
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import StubSink, slack_config

ORIGIN = Origin("slack", "T0TEAM", Actor("slack", "UREQ", "<@UREQ>"), "CMOD", "CPUB", "CGEN")
CARD: dict[str, Any] = {
    "topic": "cats",
    "draft": "Why did the cat sit on the computer? To keep an eye on the mouse.",
    "attempt": 2,
    "max_attempts": 5,
    "model_label": "FakeLLM (scripted)",
    "requester": "<@UREQ>",
}


def effect(kind: EffectKind, payload: dict[str, Any], **kwargs: Any) -> OutboxEffect:
    effect_id = kwargs.pop("effect_id", f"run1:{kind.value}")
    return OutboxEffect(
        effect_id, "run1", kind, kwargs.pop("origin", ORIGIN), payload, "k1", **kwargs
    )


pytestmark = pytest.mark.usefixtures("no_slack_env")


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack({"CMOD": "mods", "CPUB": "jokes", "CGEN": "general"}) as slack:
        yield slack


def sender_for(fake: FakeSlack, **overrides: Any) -> SlackSender:
    return build_slack(slack_config(fake, **overrides), StubSink())[1]


async def test_review_post_is_a_card_with_four_token_buttons(fake: FakeSlack) -> None:
    ref = await sender_for(fake).send(
        effect(EffectKind.REVIEW_POST, {"token": "tok1", "card": CARD})
    )

    (message,) = fake.messages("CMOD")
    assert ref == f"CMOD:{message.ts}"
    assert message.metadata == {
        "event_type": "jokebot_effect",
        "event_payload": {"effect_id": "run1:review.post"},
    }
    (actions,) = [b for b in message.blocks if b["type"] == "actions"]
    buttons = {e["action_id"]: e for e in actions["elements"]}
    assert {k: (v["value"], v.get("style")) for k, v in buttons.items()} == {
        "jokebot_approve": (button_id("tok1", "approve"), "primary"),
        "jokebot_reject": (button_id("tok1", "reject"), "danger"),
        "jokebot_reason": (button_id("tok1", "reason"), None),
        "jokebot_edit": (button_id("tok1", "edit"), None),
    }
    labels = [e["text"]["text"] for e in actions["elements"]]
    assert labels == ["Approve", "Reject", "Reject with reason…", "Edit…"]
    shown = str(message.blocks)
    for part in ("cats", CARD["draft"], "<@UREQ>", "Draft 2 of 5", "FakeLLM (scripted)"):
        assert part in shown


async def test_review_post_escapes_the_topic(fake: FakeSlack) -> None:
    card = {**CARD, "topic": "<!channel> & co"}

    await sender_for(fake).send(effect(EffectKind.REVIEW_POST, {"token": "tok1", "card": card}))

    (message,) = fake.messages("CMOD")
    assert "<!channel>" not in str(message.blocks) + message.text
    assert "&lt;!channel&gt; &amp; co" in message.blocks[0]["text"]["text"]


@pytest.mark.parametrize(
    ("outcome", "reason", "text"),
    [
        ("approve", "", ""),
        ("reject", "too mean", ""),
        ("edit", "", "An edited joke."),
        ("timeout", "", ""),
    ],
)
async def test_review_update_removes_buttons_and_stamps_status(
    fake: FakeSlack, outcome: str, reason: str, text: str
) -> None:
    sender = sender_for(fake)
    ref = await sender.send(effect(EffectKind.REVIEW_POST, {"token": "tok1", "card": CARD}))
    payload = {
        "token": "tok1",
        "card": CARD,
        "outcome": outcome,
        "actor": "<@UMOD>",
        "reason": reason,
        "text": text,
    }

    again = await sender.send(effect(EffectKind.REVIEW_UPDATE, payload, card_ref=ref))

    assert again == ref
    (message,) = fake.messages("CMOD")
    assert not [b for b in message.blocks if b["type"] == "actions"]
    assert message.blocks[-1]["elements"][0]["text"] == outcome_line(outcome, "<@UMOD>", reason)
    if text:
        assert text in str(message.blocks)


async def test_publish_credits_requester_and_reconcile_finds_it(fake: FakeSlack) -> None:
    sender = sender_for(fake)
    relay = effect(EffectKind.PUBLISH, {"text": "A joke.", "topic": "cats", "requester": "<@UREQ>"})

    assert await sender.reconcile(relay) is None
    ref = await sender.send(relay)

    (message,) = fake.messages("CPUB")
    assert "A joke." in message.text
    assert "<@UREQ>" in message.text
    assert await sender.reconcile(relay) == ref
    other = effect(EffectKind.PUBLISH, dict(relay.payload), effect_id="run2:publish")
    assert await sender.reconcile(other) is None


async def test_relay_whose_response_was_lost_is_unknown_then_reconciled(fake: FakeSlack) -> None:
    sender = sender_for(fake)
    relay = effect(EffectKind.PUBLISH, {"text": "A joke.", "topic": "cats", "requester": "<@UREQ>"})
    fake.fail_next("chat.postMessage", 1, apply_then_drop=True)

    with pytest.raises(OutcomeUnknown):
        await sender.send(relay)

    (message,) = fake.messages("CPUB")
    assert await sender.reconcile(relay) == f"CPUB:{message.ts}"
    assert len(fake.calls_to("chat.postMessage")) == 1  # never re-sent behind our back


async def test_reconcile_without_history_access_cannot_tell(fake: FakeSlack) -> None:
    relay = effect(EffectKind.PUBLISH, {"text": "A joke.", "topic": "cats", "requester": "<@UREQ>"})
    fake.fail_next("conversations.history", 1, status=200, error="missing_scope", retry_after=None)

    with pytest.raises(CannotReconcile, match="missing_scope"):
        await sender_for(fake).reconcile(relay)


async def test_429_on_the_relay_is_retried_after_retry_after(fake: FakeSlack) -> None:
    relay = effect(EffectKind.PUBLISH, {"text": "A joke.", "topic": "cats", "requester": "<@UREQ>"})
    fake.fail_next("chat.postMessage", 1, retry_after=1)
    start = time.monotonic()

    ref = await sender_for(fake).send(relay)

    assert time.monotonic() - start >= 1.0
    assert len(fake.calls_to("chat.postMessage")) == 2
    assert [f"CPUB:{m.ts}" for m in fake.messages("CPUB")] == [ref]


async def test_429_beyond_the_retries_is_a_retryable_send_error(fake: FakeSlack) -> None:
    relay = effect(EffectKind.PUBLISH, {"text": "A joke.", "topic": "cats", "requester": "<@UREQ>"})
    fake.fail_next("chat.postMessage", 1, retry_after=7)

    with pytest.raises(SendError) as caught:
        await sender_for(fake, rate_limit_retries=0).send(relay)

    assert caught.value.retryable
    assert caught.value.retry_after == 7.0
    assert fake.messages("CPUB") == []


@pytest.mark.parametrize(
    ("status", "error", "expected"),
    [
        (200, "not_in_channel", "refused"),
        (200, "channel_not_found", "refused"),
        (503, "service_unavailable", "retryable"),
        (500, "internal_error", "unknown"),
        (502, "", "unknown"),
        (200, "request_timeout", "unknown"),
    ],
)
async def test_send_errors_are_mapped(
    fake: FakeSlack, status: int, error: str, expected: str
) -> None:
    fake.fail_next("chat.postMessage", 1, status=status, error=error, retry_after=None)
    alert = effect(EffectKind.ALERT, {"text": "careful"})

    with pytest.raises((SendError, OutcomeUnknown)) as caught:
        await sender_for(fake).send(alert)

    if expected == "unknown":
        assert isinstance(caught.value, OutcomeUnknown)
    else:
        assert isinstance(caught.value, SendError)
        assert caught.value.retryable is (expected == "retryable")


async def test_unreachable_slack_is_retryable(fake: FakeSlack) -> None:
    sender = sender_for(fake, api_base="http://127.0.0.1:9/api/")  # discard port: refused

    with pytest.raises(SendError) as caught:
        await sender.send(effect(EffectKind.ALERT, {"text": "careful"}))

    assert caught.value.retryable


async def test_notify_is_a_dm_that_says_where_the_request_came_from(fake: FakeSlack) -> None:
    ref = await sender_for(fake).send(effect(EffectKind.NOTIFY, {"text": "Your joke was posted"}))

    (opened,) = fake.calls_to("conversations.open")
    assert opened.params["users"] == "UREQ"
    (message,) = fake.messages("UREQ")
    assert ref == f"{fake.dm('UREQ')}:{message.ts}"  # a D… channel: persistent, unlike ephemerals
    assert message.text == "Your joke was posted"
    assert message.blocks[-1]["elements"][0]["text"] == "About your /joke request in <#CGEN>."
    assert fake.ephemerals == []


async def test_notify_falls_back_to_an_ephemeral_when_no_dm_is_possible(fake: FakeSlack) -> None:
    fake.scopes.discard("im:write")  # an install from before DMs: conversations.open refused

    ref = await sender_for(fake).send(effect(EffectKind.NOTIFY, {"text": "Your joke was posted"}))

    (shown,) = fake.ephemerals_for("UREQ")
    assert ref == f"ephemeral:CGEN:{shown.ts}"
    assert shown.channel == "CGEN"
    assert shown.text == "Your joke was posted"
    assert "Only you can see this" in shown.blocks[-1]["elements"][0]["text"]
    assert fake.messages("UREQ") == []


async def test_notify_that_can_reach_nobody_is_refused(fake: FakeSlack) -> None:
    fake.scopes.discard("im:write")
    fake.channels["CGEN"].members = {"USOMEONE"}  # the requester has left that channel

    with pytest.raises(SendError) as caught:
        await sender_for(fake).send(effect(EffectKind.NOTIFY, {"text": "Your joke was posted"}))

    assert not caught.value.retryable
    assert "user_not_in_channel" in str(caught.value)


async def test_notify_dm_rate_limited_is_retried_later_not_dropped(fake: FakeSlack) -> None:
    fake.fail_next("conversations.open", 1, retry_after=3)

    with pytest.raises(SendError) as caught:
        await sender_for(fake, rate_limit_retries=0).send(
            effect(EffectKind.NOTIFY, {"text": "Your joke was posted"})
        )

    assert caught.value.retryable
    assert fake.ephemerals == []  # a busy Slack is no reason to settle for an ephemeral


async def test_alert_goes_to_the_mod_channel(fake: FakeSlack) -> None:
    await sender_for(fake).send(effect(EffectKind.ALERT, {"text": "relay uncertain"}))

    (message,) = fake.messages("CMOD")
    assert message.text == "⚠️ relay uncertain"


async def test_update_without_card_ref_is_refused(fake: FakeSlack) -> None:
    with pytest.raises(SendError) as caught:
        await sender_for(fake).send(effect(EffectKind.REVIEW_UPDATE, {"outcome": "approve"}))

    assert not caught.value.retryable


RELAY = {"text": "A joke.", "topic": "cats", "requester": "<@UREQ>"}


async def test_reconcile_pages_back_through_a_busy_channel(fake: FakeSlack) -> None:
    sender = sender_for(fake)
    relay = effect(EffectKind.PUBLISH, RELAY)
    fake.fail_next("chat.postMessage", 1, status=200, error="internal_error", apply_then_error=True)
    fake.busy["CPUB"] = (500, 500)  # hundreds of other messages after the bot's post

    with pytest.raises(OutcomeUnknown):
        await sender.send(relay)

    (post, *_) = fake.messages("CPUB")
    assert await sender.reconcile(relay) == f"CPUB:{post.ts}"
    assert len(fake.calls_to("conversations.history")) > 1  # it took more than one page


async def test_reconcile_proves_absence_only_back_to_the_effects_creation(fake: FakeSlack) -> None:
    fake.chatter("CPUB", 3000)  # older than the effect (and the skew margin): never read
    created = fake.clock.now() + 5
    fake.clock.advance(20)  # type: ignore[attr-defined]  # the fake's own FakeClock
    fake.chatter("CPUB", 300)
    relay = effect(EffectKind.PUBLISH, RELAY, created_at=created)

    assert await sender_for(fake, clock_skew_s=1.0).reconcile(relay) is None

    calls = [c.params for c in fake.calls_to("conversations.history")]
    assert all(float(c["oldest"]) >= created - 1.0 - 1e-6 for c in calls)
    assert float(calls[0]["oldest"]) == created - 1.0  # first: one page of everything since
    assert "latest" not in calls[0]
    second = (float(calls[1]["oldest"]), float(calls[1]["latest"]))
    assert second == pytest.approx((created - 0.1, created + 0.1))  # then forward from creation
    assert (float(calls[-1]["oldest"]), float(calls[-1]["latest"])) == pytest.approx(
        (created - 1.0, created - 0.1)  # the skew margin before the creation, last
    )
    assert any(c.get("cursor") for c in calls)  # the busy window took more than one page
    assert all(str(c["include_all_metadata"]).lower() in ("1", "true") for c in calls)


async def test_reconcile_finds_a_post_soon_after_creation_however_busy_it_got_since(
    fake: FakeSlack,
) -> None:
    fake.clock.advance(10)  # type: ignore[attr-defined]
    relay = effect(EffectKind.PUBLISH, RELAY, created_at=fake.clock.now())
    fake.fail_next("chat.postMessage", 1, status=200, error="internal_error", apply_then_error=True)
    sender = sender_for(fake, clock_skew_s=1.0, reconcile_pages=3)
    with pytest.raises(OutcomeUnknown):
        await sender.send(relay)
    fake.clock.advance(60)  # type: ignore[attr-defined]
    fake.chatter("CPUB", 20_000)  # far more than 3 pages could read back from now

    (post, *_) = fake.messages("CPUB")
    assert await sender.reconcile(relay) == f"CPUB:{post.ts}"


async def test_reconcile_in_a_quiet_channel_takes_one_page(fake: FakeSlack) -> None:
    fake.chatter("CPUB", 5)
    relay = effect(EffectKind.PUBLISH, RELAY, created_at=fake.clock.now())

    assert await sender_for(fake).reconcile(relay) is None

    assert len(fake.calls_to("conversations.history")) == 1


async def test_reconcile_that_runs_out_of_pages_cannot_tell(fake: FakeSlack) -> None:
    fake.chatter("CPUB", 3000)
    relay = effect(EffectKind.PUBLISH, RELAY)  # no creation time: back to the channel's start

    with pytest.raises(CannotReconcile, match="not among"):
        await sender_for(fake, reconcile_pages=3).reconcile(relay)

    assert len(fake.calls_to("conversations.history")) == 3


@pytest.mark.parametrize(
    ("status", "error"), [(429, "ratelimited"), (200, "not_in_channel"), (200, "invalid_cursor")]
)
async def test_reconcile_whose_history_read_is_refused_cannot_tell(
    fake: FakeSlack, status: int, error: str
) -> None:
    fake.chatter("CPUB", 1000)
    relay = effect(EffectKind.PUBLISH, RELAY)
    fake.fail_next("conversations.history", 1, status=status, error=error, retry_after=None)

    with pytest.raises(CannotReconcile, match=error):
        await sender_for(fake, rate_limit_retries=0).reconcile(relay)


async def test_alert_keeps_the_intended_mention_and_escapes_the_rest(fake: FakeSlack) -> None:
    text = "Gave up on a joke about <!here> & co for <@UREQ> after 3 failed model calls."

    await sender_for(fake).send(effect(EffectKind.ALERT, {"text": text}))

    (message,) = fake.messages("CMOD")
    assert "for <@UREQ> after" in message.text
    assert "&lt;@UREQ&gt;" not in message.text + str(message.blocks)
    assert "&lt;!here&gt; &amp; co" in message.text
    assert message.blocks[0]["text"]["text"] == message.text


async def test_decided_card_escapes_the_reason_and_a_foreign_name(fake: FakeSlack) -> None:
    sender = sender_for(fake)
    ref = await sender.send(effect(EffectKind.REVIEW_POST, {"token": "tok1", "card": CARD}))
    update = {
        "token": "tok1",
        "card": CARD,
        "outcome": "reject",
        "actor": "Mallory <!channel>",  # a name from another surface, not a Slack mention
        "reason": "<!here> see <https://evil.example|cats> & more",
        "text": "",
    }

    await sender.send(effect(EffectKind.REVIEW_UPDATE, update, card_ref=ref))

    (message,) = fake.messages("CMOD")
    line = message.blocks[-1]["elements"][0]["text"]
    assert line == (
        "❌ Rejected by Mallory &lt;!channel&gt;: "
        "&lt;!here&gt; see &lt;https://evil.example|cats&gt; &amp; more"
    )
    assert "<!" not in message.text
