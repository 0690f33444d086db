from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters._review import button_id
from adapters.slack_adapter._buttons import EDIT_ACTION, EDIT_BLOCK, REASON_ACTION, REASON_BLOCK
from bot.models import Actor, DecideResult, DecideStatus, EffectKind, Origin, OutboxEffect, WaitInfo
from tests.support.fake_slack import FakeSlack
from tests.support.slack_harness import MOD, SlackHttp, StubSink, card_message, settle, slack_http
from tests.support.slack_payloads import click_payload, form, new_trigger, submission_payload

DRAFT = "Why do cats love computers? The mouse."
CARD = {
    "topic": "cats",
    "draft": DRAFT,
    "attempt": 1,
    "max_attempts": 5,
    "model_label": "FakeLLM",
    "requester": "<@UREQ>",
}
ORIGIN = Origin("slack", "T0TEAM", Actor("slack", "UREQ", "<@UREQ>"), "CMOD", "CPUB", "CGEN")


pytestmark = pytest.mark.usefixtures("no_slack_env")


async def post_card(slack: SlackHttp, wait: str = "tok1") -> dict[str, Any]:
    review = OutboxEffect(
        "run1:1:card", "run1", EffectKind.REVIEW_POST, ORIGIN, {"token": wait, "card": CARD}, "k"
    )
    await slack.sender.send(review)
    return card_message(slack.fake)


@pytest.fixture
async def stub() -> StubSink:
    return StubSink()


@pytest.fixture
async def slack(stub: StubSink) -> AsyncIterator[SlackHttp]:
    async with (
        FakeSlack(usergroups={"SMODS": ["UGROUP"]}) as fake,
        slack_http(stub, fake, moderator_group="SMODS") as running,
    ):
        yield running


async def test_moderator_approve_decides_then_stamps_the_card(
    slack: SlackHttp, stub: StubSink
) -> None:
    card = await post_card(slack)

    status, _, elapsed = await slack.click(card, "approve")
    await slack.fake.wait_for("chat.update")

    assert status == 200
    assert elapsed < 1.0
    (decision,) = stub.decisions
    assert (decision.token, decision.action, decision.actor.is_moderator) == (
        "tok1",
        "approve",
        True,
    )
    assert decision.actor.display == f"<@{MOD}>"
    (message,) = slack.fake.messages("CMOD")
    assert message.blocks[-1]["elements"][0]["text"] == f"✅ Approved by <@{MOD}>"
    assert not [b for b in message.blocks if b["type"] == "actions"]
    assert DRAFT in str(message.blocks)
    assert slack.fake.webhooks == []


async def test_click_from_another_workspace_is_refused(slack: SlackHttp, stub: StubSink) -> None:
    card = await post_card(slack)
    payload = click_payload(
        card,
        "CMOD",
        "approve",
        user=MOD,
        trigger=new_trigger(),
        response_url=slack.fake.webhook_url("x"),
    )
    payload["team"] = {"id": "T0OTHER", "domain": "other"}

    status, _, _ = await slack.post(form(payload))
    (answer,) = await slack.fake.wait_webhooks(1)

    assert status == 200
    assert "another Slack workspace" in answer["text"]
    assert stub.decisions == []


async def test_submission_from_another_workspace_is_refused(
    slack: SlackHttp, stub: StubSink
) -> None:
    view = await open_modal(slack, "edit")
    payload = submission_payload(view, user=MOD, values={EDIT_BLOCK: {EDIT_ACTION: "Better."}})
    payload["team"] = {"id": "T0OTHER", "domain": "other"}

    status, body = await slack.submit(payload)

    assert status == 200
    assert body["response_action"] == "errors"
    assert "another Slack workspace" in body["errors"][EDIT_BLOCK]
    assert stub.decisions == []


async def test_each_click_has_its_own_interaction_id(slack: SlackHttp, stub: StubSink) -> None:
    card = await post_card(slack)
    stub.answers = [
        DecideResult(DecideStatus.APPLIED, "ok"),
        DecideResult(DecideStatus.ALREADY_DECIDED, "x"),
    ]

    await slack.click(card, "approve")
    await slack.click(card, "approve")
    await settle()

    first, second = stub.decisions
    assert first.interaction_id != second.interaction_id


async def test_non_moderator_click_gets_an_ephemeral_refusal(
    slack: SlackHttp, stub: StubSink
) -> None:
    card = await post_card(slack)

    status, _, _ = await slack.click(card, "approve", user="URANDOM")
    (answer,) = await slack.fake.wait_webhooks(1)

    assert status == 200
    assert answer == {
        "text": "Only moderators can decide.",
        "response_type": "ephemeral",
        "replace_original": False,
    }
    assert stub.decisions[0].actor.is_moderator is False
    assert slack.fake.calls_to("chat.update") == []


async def test_user_group_member_is_a_moderator_and_the_group_is_cached(
    slack: SlackHttp, stub: StubSink
) -> None:
    card = await post_card(slack)
    stub.answers = [
        DecideResult(DecideStatus.APPLIED, "ok"),
        DecideResult(DecideStatus.ALREADY_DECIDED, "x"),
    ]

    lookups = len(slack.fake.calls_to("usergroups.users.list"))  # the start-up check made one

    await slack.click(card, "approve", user="UGROUP")
    await slack.click(card, "approve", user="UGROUP")
    await settle()

    assert [d.actor.is_moderator for d in stub.decisions] == [True, True]
    assert len(slack.fake.calls_to("usergroups.users.list")) == lookups + 1


@pytest.mark.parametrize(
    "result",
    [
        DecideResult(DecideStatus.ALREADY_DECIDED, "Already approved by <@UOTHER>.", "<@UOTHER>"),
        DecideResult(DecideStatus.STALE, "This card is stale: a newer draft replaced it."),
        DecideResult(DecideStatus.EXPIRED, "This review expired."),
    ],
)
async def test_losing_or_old_clicks_are_told_why(
    slack: SlackHttp, stub: StubSink, result: DecideResult
) -> None:
    card = await post_card(slack)
    stub.answers = [result]

    await slack.click(card, "approve")
    (answer,) = await slack.fake.wait_webhooks(1)

    assert answer["text"] == result.message
    assert answer["response_type"] == "ephemeral"
    assert slack.fake.calls_to("chat.update") == []


async def test_edit_opens_a_prefilled_modal_at_once(slack: SlackHttp, stub: StubSink) -> None:
    card = await post_card(slack)
    stub.delay_s = 2.0  # a slow sink must not stand between the click and views.open

    await slack.click(card, "edit", trigger="T-edit-1")
    (call,) = await slack.fake.wait_for("views.open", timeout=1.0)

    assert call.params["trigger_id"] == "T-edit-1"
    view = call.params["view"]
    assert view["private_metadata"] == "tok1"
    element = view["blocks"][0]["element"]
    assert element["initial_value"] == DRAFT
    assert stub.decisions == []


async def test_click_delivered_too_late_for_its_trigger_says_click_again(
    slack: SlackHttp, stub: StubSink
) -> None:
    card = await post_card(slack)
    trigger = slack.fake.issue_trigger()  # Slack issued it with the click...
    slack.fake.clock.advance(3.5)  # type: ignore[attr-defined]  # ...which arrived 3.5 s late

    await slack.click(card, "edit", trigger=trigger)
    (answer,) = await slack.fake.wait_webhooks(1)

    assert "expired_trigger_id" in answer["text"]
    assert "click the button again" in answer["text"]
    assert slack.fake.views == {}


async def test_edit_modal_falls_back_to_the_stored_draft(slack: SlackHttp, stub: StubSink) -> None:
    card = await post_card(slack)
    card["blocks"] = [b for b in card["blocks"] if b["type"] == "actions"]  # an odd client
    stub.infos["tok1"] = WaitInfo(
        "tok1", "run1", "review", "pending", {**CARD, "draft": "Stored."}, ("edit",)
    )

    await slack.click(card, "edit")
    (call,) = await slack.fake.wait_for("views.open")

    assert call.params["view"]["blocks"][0]["element"]["initial_value"] == "Stored."


async def test_blank_edit_is_refused_inside_the_modal(slack: SlackHttp, stub: StubSink) -> None:
    view = await open_modal(slack, "edit")

    status, body = await slack.submit(
        submission_payload(view, user=MOD, values={EDIT_BLOCK: {EDIT_ACTION: "  "}})
    )

    assert status == 200
    assert body["response_action"] == "errors"
    assert list(body["errors"]) == [EDIT_BLOCK]
    assert stub.decisions == []


async def test_edit_submission_decides_edit_with_the_text(slack: SlackHttp, stub: StubSink) -> None:
    view = await open_modal(slack, "edit")

    status, body = await slack.submit(
        submission_payload(view, user=MOD, values={EDIT_BLOCK: {EDIT_ACTION: " Better joke. "}})
    )

    assert (status, body) == (200, {})
    (decision,) = stub.decisions
    assert (decision.token, decision.action, dict(decision.data)) == (
        "tok1",
        "edit",
        {"text": "Better joke."},
    )
    assert decision.interaction_id.startswith("view:")


async def test_refused_edit_shows_the_reason_in_the_modal(slack: SlackHttp, stub: StubSink) -> None:
    view = await open_modal(slack, "edit")
    stub.answers = [DecideResult(DecideStatus.INVALID, "The joke is too long (max 300).")]

    _, body = await slack.submit(
        submission_payload(view, user=MOD, values={EDIT_BLOCK: {EDIT_ACTION: "x" * 400}})
    )

    assert body == {
        "response_action": "errors",
        "errors": {EDIT_BLOCK: "The joke is too long (max 300)."},
    }


async def test_plain_reject_decides_at_once_without_a_reason(
    slack: SlackHttp, stub: StubSink
) -> None:
    card = await post_card(slack)

    status, _, _ = await slack.click(card, "reject")
    await slack.fake.wait_for("chat.update")

    assert status == 200
    (decision,) = stub.decisions
    assert (decision.token, decision.action, dict(decision.data)) == ("tok1", "reject", {})
    (message,) = slack.fake.messages("CMOD")
    assert message.blocks[-1]["elements"][0]["text"] == f"❌ Rejected by <@{MOD}>"
    assert not [b for b in message.blocks if b["type"] == "actions"]
    assert slack.fake.calls_to("views.open") == []


async def test_reject_with_reason_opens_a_modal_that_requires_the_reason(
    slack: SlackHttp, stub: StubSink
) -> None:
    view = await open_modal(slack, "reason")

    blank = await slack.submit(
        submission_payload(view, user=MOD, values={REASON_BLOCK: {REASON_ACTION: "  "}})
    )
    given = await slack.submit(
        submission_payload(view, user=MOD, values={REASON_BLOCK: {REASON_ACTION: " too mean "}})
    )

    assert "optional" not in view["blocks"][0]
    assert view["private_metadata"] == "tok1"
    assert blank[1]["response_action"] == "errors"
    assert list(blank[1]["errors"]) == [REASON_BLOCK]
    assert given == (200, {})
    (decision,) = stub.decisions
    assert (decision.action, dict(decision.data)) == ("reject", {"reason": "too mean"})


@pytest.mark.parametrize(("button", "decides"), [("edit", "edit"), ("reason", "reject")])
async def test_non_moderator_form_click_is_refused_without_a_modal(
    button: str, decides: str
) -> None:
    stub = StubSink()
    async with slack_http(stub) as slack:  # user ids only: the answer needs no lookup
        card = await post_card(slack)

        await slack.click(card, button, user="URANDOM")
        (answer,) = await slack.fake.wait_webhooks(1)

    assert answer["text"] == "Only moderators can decide."
    assert slack.fake.calls_to("views.open") == []
    assert [d.action for d in stub.decisions] == [decides]


async def test_slow_decision_closes_the_modal_and_answers_by_dm(stub: StubSink) -> None:
    async with slack_http(stub, decide_budget_s=0.2) as slack:
        view = await open_modal(slack, "edit")
        stub.delay_s = 0.5
        stub.answers = [DecideResult(DecideStatus.EXPIRED, "This review expired.")]

        status, body = await slack.submit(
            submission_payload(view, user=MOD, values={EDIT_BLOCK: {EDIT_ACTION: "A joke"}})
        )
        (call,) = (await slack.fake.wait_for("chat.postMessage", 2))[1:]  # after the card

        assert (status, body) == (200, {})
    assert call.params["channel"] == MOD
    assert "This review expired." in call.params["text"]


async def test_click_is_acknowledged_only_once_its_decision_is_saved(stub: StubSink) -> None:
    async with slack_http(stub, decide_budget_s=2.0) as slack:
        card = await post_card(slack)
        stub.delay_s = 0.3  # the store takes a while

        status, _, elapsed = await slack.click(card, "approve")

        assert status == 200
        assert elapsed >= 0.3  # the ack waited for the decision...
        assert len(stub.decisions) == 1  # ...which had been made when Slack got it


async def test_slow_click_is_acknowledged_at_the_budget_and_still_decided(
    stub: StubSink,
) -> None:
    async with slack_http(stub, decide_budget_s=0.2) as slack:
        card = await post_card(slack)
        stub.delay_s = 1.0
        stub.answers = [DecideResult(DecideStatus.ALREADY_DECIDED, "Already approved.", "<@U2>")]

        status, _, elapsed = await slack.click(card, "approve")
        acked_with = len(stub.decisions)
        [told] = await slack.fake.wait_webhooks(1)  # the answer follows

        assert status == 200
        assert 0.2 <= elapsed < 1.0  # within Slack's 3 s, before the slow decision
        assert acked_with == 0
    assert len(stub.decisions) == 1
    assert "Already approved." in told["text"]


async def test_unknown_button_value_is_answered_and_the_app_keeps_running(
    slack: SlackHttp, stub: StubSink
) -> None:
    card = await post_card(slack)

    status, _, _ = await slack.click(card, "approve", value="jk:v1:not-a-token!:approve")
    (answer,) = await slack.fake.wait_webhooks(1)
    joke_status, _, _ = await slack.joke("dogs")

    assert status == 200
    assert "no longer valid" in answer["text"]
    assert stub.decisions == []
    assert joke_status == 200
    assert [r.topic for r in stub.requests] == ["dogs"]


@pytest.mark.parametrize(
    "body",
    [
        "payload=%7Bnot+json",
        form(
            {
                "type": "block_actions",
                "actions": [{"action_id": "jokebot_approve", "value": button_id("t", "approve")}],
            }
        ),
        form(
            {
                "type": "view_submission",
                "view": {"callback_id": "jokebot_edit_modal", "private_metadata": "t"},
            }
        ),
        form(
            {
                "type": "view_submission",
                "user": {"id": "U1"},
                "view": {"callback_id": "jokebot_reason_modal"},
            }
        ),
        "command=%2Fjoke&text=cats",
    ],
)
async def test_malformed_payloads_are_logged_and_the_app_keeps_running(
    slack: SlackHttp, stub: StubSink, body: str, caplog: pytest.LogCaptureFixture
) -> None:
    status, _, _ = await slack.post(body)
    await settle()
    joke_status, _, _ = await slack.joke("dogs")

    assert status in (200, 400)
    assert any(
        r.name.startswith("adapters.slack_adapter") and r.levelname == "WARNING"
        for r in caplog.records
    )
    assert joke_status == 200
    assert stub.decisions == []
    assert [r.topic for r in stub.requests] == ["dogs"]


async def open_modal(slack: SlackHttp, action: str) -> dict[str, Any]:
    card = await post_card(slack)
    await slack.click(card, action)
    (call,) = await slack.fake.wait_for("views.open")
    view: dict[str, Any] = call.params["view"]
    return view
