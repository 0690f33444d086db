"""Card clicks and modal submits in detail, against a scripted sink (answers and fallbacks)."""

import asyncio
from typing import Any

import discord
import pytest

from adapters.discord_adapter import _listeners, _moderators
from bot.models import Actor, DecideResult, DecideStatus, DecisionRequest, WaitInfo
from tests.e2e.test_discord_sender import CARD, review
from tests.support.fake_discord import (
    MANAGE_MESSAGES,
    MEMBER_PERMS,
    MOD,
    MOD_CHANNEL,
    RANDO,
    Call,
    Session,
    StubSink,
    button_ids,
    click,
    discord_session,
    modal_submit,
)

CALLBACK = r"/interactions/\d+/[^/]+/callback"
DRAFT = "@everyone Why do cats hate @here? Too many mice."


async def _card(bot: Session) -> dict[str, Any]:
    ref = await bot.sender.send(review("Tok1"))
    return dict(bot.fake.message(ref))


async def _answer(bot: Session, payload: dict[str, Any]) -> Call:
    since = len(bot.fake.calls)
    await bot.fake.interact(payload)
    return await bot.fake.wait_for_path("POST", CALLBACK, since=since)


def _pending(sink: StubSink, status: str = "pending") -> None:
    card = {"topic": "cats", "draft": DRAFT, "attempt": 1, "max_attempts": 3}
    sink.waits["Tok1"] = WaitInfo("Tok1", "discord:1", "review", status, card, ("approve",))


async def test_approve_passes_a_moderator_actor_and_edits_the_card(
    bot: Session, sink: StubSink
) -> None:
    card = await _card(bot)

    answer = await _answer(bot, click("jk:v1:Tok1:approve", card, user=MOD))

    [request] = sink.decisions
    assert request == DecisionRequest(
        "Tok1",
        "approve",
        Actor("discord", str(MOD), "Mo", is_moderator=True, name="Mo"),
        request.interaction_id,
    )
    assert answer.body["type"] == 7
    assert answer.body["data"]["components"] == []
    assert answer.body["data"]["allowed_mentions"] == {"parse": []}
    assert bot.fake.message(card["id"])["content"] == "✅ Approved by Mo"


@pytest.mark.parametrize(
    ("permissions", "moderator"),
    [(MEMBER_PERMS, False), (MEMBER_PERMS | MANAGE_MESSAGES, True)],
)
async def test_manage_messages_makes_a_moderator(
    bot: Session, sink: StubSink, permissions: int, moderator: bool
) -> None:
    sink.decide_result = DecideResult(
        DecideStatus.FORBIDDEN, "Only moderators can decide on jokes."
    )
    card = await _card(bot)

    answer = await _answer(
        bot, click("jk:v1:Tok1:reject", card, user=RANDO, permissions=permissions)
    )

    assert sink.decisions[0].actor.is_moderator is moderator
    assert answer.body == {
        "type": 4,
        "data": {
            "tts": False,
            "content": "Only moderators can decide on jokes.",
            "flags": 64,
            "allowed_mentions": {"parse": []},
        },
    }


async def test_role_moderator_counts_when_the_guild_is_not_cached(
    monkeypatch: pytest.MonkeyPatch, sink: StubSink
) -> None:
    # Member.roles filters the payload's role ids through the guild cache; here there is none.
    async with discord_session(monkeypatch, sink, guild_available=False) as uncached:
        card = await _card(uncached)

        await _answer(uncached, click("jk:v1:Tok1:approve", card, user=MOD))

    assert sink.decisions[0].actor.is_moderator is True


def test_payload_role_ids_are_still_where_we_read_them() -> None:
    assert _moderators.PAYLOAD_ROLES in discord.Member.__slots__  # canary for discord.py upgrades


async def test_role_ids_fall_back_to_rest_when_the_payload_copy_is_gone(
    bot: Session, sink: StubSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_moderators, "PAYLOAD_ROLES", "_not_there")
    card = await _card(bot)

    await _answer(bot, click("jk:v1:Tok1:approve", card, user=MOD))

    assert sink.decisions[0].actor.is_moderator is True
    assert bot.fake.calls_to("GET", rf"/guilds/\d+/members/{MOD}")


async def test_moderator_role_needs_the_guild_config(bot: Session, sink: StubSink) -> None:
    sink.scopes.clear()  # the guild was never set up: the role means nothing yet
    card = await _card(bot)

    await _answer(bot, click("jk:v1:Tok1:approve", card, user=MOD))

    assert sink.decisions[0].actor.is_moderator is False


@pytest.mark.parametrize(
    ("custom_id", "with_button"),
    [
        ("jk:v1:Gone1:approve", False),  # a button the message does not show
        ("jk:v1:Tok1:bogus", True),  # an action nobody handles
        ("jk:v1:Tok1:approve", None),  # no message at all
    ],
)
async def test_unmatched_jk_ids_get_the_fallback_answer(
    bot: Session, sink: StubSink, custom_id: str, with_button: bool | None
) -> None:
    card = await _card(bot)
    if with_button:
        card["components"][0]["components"][0]["custom_id"] = custom_id
    message = None if with_button is None else card

    answer = await _answer(bot, click(custom_id, message))

    assert answer.body["type"] == 4
    assert answer.body["data"]["content"] == "This draft is no longer available."
    assert answer.body["data"]["flags"] == 64
    assert sink.decisions == []


@pytest.mark.parametrize(
    ("custom_id", "shown"),
    [
        ("jk:v1:Tok1:timeout", True),  # a crafted button carrying the runtime's own action
        ("jk:v1:Tok1:cancel", True),
        ("jk:v1:Tok1:timeoutmodal", False),
    ],
)
async def test_crafted_internal_actions_are_never_decisions(
    bot: Session, sink: StubSink, custom_id: str, shown: bool
) -> None:
    card = await _card(bot)
    card["components"][0]["components"][0]["custom_id"] = custom_id
    payload = (
        click(custom_id, card)
        if shown
        else modal_submit(custom_id, {"text": "x", "reason": "y"}, card)
    )

    answer = await _answer(bot, payload)

    assert answer.body["data"]["content"] == "This draft is no longer available."
    assert sink.decisions == []


async def test_decide_accepts_only_moderator_actions(
    bot: Session, sink: StubSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Whatever routes a click to decide() (a template, the fallback, a future surface), an
    # action outside approve / reject / edit never becomes a decision.
    async def route_as_timeout(interaction: discord.Interaction) -> None:
        await _listeners.on_click(interaction, "Tok1", "timeout")

    monkeypatch.setattr(_listeners, "_fallback", route_as_timeout)
    card = await _card(bot)
    card["components"][0]["components"][0]["custom_id"] = "jk:v1:Tok1:timeout"

    answer = await _answer(bot, click("jk:v1:Tok1:timeout", card))

    assert sink.decisions == []
    assert answer.body["data"]["content"] == "This draft is no longer available."


async def test_foreign_custom_ids_are_left_alone(bot: Session, sink: StubSink) -> None:
    card = await _card(bot)
    card["components"][0]["components"][0]["custom_id"] = "someone-else:1"
    since = len(bot.fake.calls)

    await bot.fake.interact(click("someone-else:1", card))
    await _answer(bot, click("jk:v1:Tok1:approve", await _card(bot)))

    assert len(bot.fake.calls_to("POST", CALLBACK, since=since)) == 1


async def test_edit_opens_a_prefilled_modal_and_drops_the_in_memory_copy(
    bot: Session, sink: StubSink
) -> None:
    _pending(sink)
    card = await _card(bot)

    answer = await _answer(bot, click("jk:v1:Tok1:edit", card))

    assert answer.body["type"] == 9
    data = answer.body["data"]
    assert data["custom_id"] == "jk:v1:Tok1:editmodal"
    assert data["title"] == "Edit joke"
    [label] = data["components"]
    assert label["type"] == 18
    assert label["component"]["custom_id"] == "text"
    assert label["component"]["value"] == DRAFT
    assert bot.client._connection._view_store._modals == {}  # submits go to on_interaction


async def test_edit_falls_back_to_the_card_text_when_lookup_is_slow(
    bot: Session, sink: StubSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_listeners, "ACK_BUDGET_S", 0.6)  # checks get 0.1 s

    async def slow_wait_info(token: str) -> WaitInfo | None:
        await asyncio.sleep(1)
        return None

    sink.wait_info = slow_wait_info  # type: ignore[method-assign]  # a slow back end
    card = await _card(bot)

    answer = await _answer(bot, click("jk:v1:Tok1:edit", card))

    assert answer.body["type"] == 9
    # the card shows the draft escaped and inert; the form gets the text itself back
    assert card["embeds"][0]["description"] != CARD["draft"]
    assert answer.body["data"]["components"][0]["component"]["value"] == CARD["draft"]


@pytest.mark.parametrize(
    ("status", "text"),
    [
        ("decided", "This draft has already been decided."),
        ("expired", "This draft has expired: no moderator decided in time."),
        (None, "This draft is no longer available."),
    ],
)
async def test_edit_of_a_closed_draft_explains_instead_of_opening(
    bot: Session, sink: StubSink, status: str | None, text: str
) -> None:
    if status is not None:
        _pending(sink, status)
    card = await _card(bot)

    answer = await _answer(bot, click("jk:v1:Tok1:edit", card))

    assert answer.body["type"] == 4
    assert answer.body["data"]["content"] == text


async def test_reason_modal_requires_text(bot: Session, sink: StubSink) -> None:
    _pending(sink)
    card = await _card(bot)

    opened = await _answer(bot, click("jk:v1:Tok1:reason", card))
    empty = await _answer(bot, modal_submit("jk:v1:Tok1:reasonmodal", {"reason": " "}, card))
    given = await _answer(bot, modal_submit("jk:v1:Tok1:reasonmodal", {"reason": "meh"}, card))

    assert opened.body["data"]["custom_id"] == "jk:v1:Tok1:reasonmodal"
    assert empty.body["type"] == 4
    assert "reason" in empty.body["data"]["content"]
    assert [(d.action, dict(d.data)) for d in sink.decisions] == [("reject", {"reason": "meh"})]
    assert given.body["data"]["content"] == "❌ Rejected by Mo: meh"


async def test_unknown_modal_kind_is_answered(bot: Session, sink: StubSink) -> None:
    answer = await _answer(bot, modal_submit("jk:v1:Tok1:othermodal", {"x": "y"}, None))

    assert answer.body["data"]["content"] == "This draft is no longer available."
    assert sink.decisions == []


async def test_slow_decision_defers_then_edits_the_card(
    bot: Session, sink: StubSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_listeners, "ACK_BUDGET_S", 0.05)
    sink.gate = asyncio.Event()
    card = await _card(bot)
    since = len(bot.fake.calls)

    deferred = await _answer(bot, click("jk:v1:Tok1:approve", card))
    sink.gate.set()
    edit = await bot.fake.wait_for_path(
        "PATCH", r"/webhooks/\d+/[^/]+/messages/@original", since=since
    )

    assert deferred.body == {"type": 6}
    assert edit.body["content"] == "✅ Approved by Mo"
    assert edit.body["components"] == []
    assert bot.fake.message(card["id"])["components"] == []


async def test_the_ack_budget_counts_from_the_interaction_creation(
    monkeypatch: pytest.MonkeyPatch, sink: StubSink
) -> None:
    # Scaled down: Discord's 3 s becomes 0.6 s and our 2 s budget 0.4 s; the gateway takes
    # 0.3 s to deliver the click, so only 0.1 s of the budget is left when the handler starts.
    monkeypatch.setattr(_listeners, "ACK_BUDGET_S", 0.4)
    sink.gate = asyncio.Event()
    async with discord_session(monkeypatch, sink, deadline_s=0.6) as slow:
        card = await _card(slow)
        since = len(slow.fake.calls)

        iid = await slow.fake.interact(click("jk:v1:Tok1:approve", card), delay_s=0.3)
        deferred = await slow.fake.wait_for_path("POST", CALLBACK, since=since)
        sink.gate.set()
        await slow.fake.wait_for_path(
            "PATCH", r"/webhooks/\d+/[^/]+/messages/@original", since=since
        )

    assert deferred.status == 200
    assert slow.fake.interaction(iid).responses == [6]


async def test_slow_refusal_is_a_followup(
    bot: Session, sink: StubSink, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(_listeners, "ACK_BUDGET_S", 0.05)
    sink.gate = asyncio.Event()
    sink.decide_result = DecideResult(DecideStatus.STALE, "This draft was replaced.")
    card = await _card(bot)
    since = len(bot.fake.calls)

    await _answer(bot, click("jk:v1:Tok1:approve", card))
    sink.gate.set()
    followup = await bot.fake.wait_for_path("POST", r"/webhooks/\d+/[^/]+", since=since)

    assert followup.body["content"] == "This draft was replaced."
    assert followup.body["flags"] == 64
    assert button_ids(bot.fake.message(card["id"]))  # the card is untouched


async def test_decide_crash_is_logged_and_answered(
    bot: Session, sink: StubSink, caplog: pytest.LogCaptureFixture
) -> None:
    async def boom(request: DecisionRequest) -> DecideResult:
        raise RuntimeError("disk full")

    sink.decide = boom  # type: ignore[method-assign]  # a failing back end
    card = await _card(bot)

    answer = await _answer(bot, click("jk:v1:Tok1:approve", card))

    assert answer.body["type"] == 4
    assert "Something went wrong" in answer.body["data"]["content"]
    assert any(
        "decide failed" in r.getMessage() and "Tok1" in r.getMessage() for r in caplog.records
    )
    assert card["channel_id"] == str(MOD_CHANNEL)
