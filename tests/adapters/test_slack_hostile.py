"""tests/support/hostile.py through every Slack renderer: nothing live, no limit exceeded.

Every surface is rendered by the real sender and recorded by the strict fake (which refuses
what Slack would refuse: 3000-char text objects, 40,000-char text, bad text objects). What
Slack would make live is checked on what it stored: in mrkdwn (and a message's ``text``) any
``<``/``>`` other than the mention we meant, any ``&`` that is not an entity; a mrkdwn object
that is not ``verbatim`` (Slack would auto-link URLs and channel names in it); a message with
no blocks (its ``text`` is auto-linked); control or direction characters anywhere.
"""

import re
import unicodedata
from collections.abc import AsyncIterator, Iterable, Mapping, Sequence
from typing import Any

import pytest

from adapters._review import FORMS
from adapters.slack_adapter import SlackSender, build_slack
from adapters.slack_adapter._messages import answer
from adapters.slack_adapter._render import form_modal
from bot.models import Actor, EffectKind, Origin, OutboxEffect
from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_rules import check_view
from tests.support.hostile import HOSTILE, LOOKALIKE_NAMES
from tests.support.slack_harness import StubSink, slack_config

pytestmark = pytest.mark.usefixtures("no_slack_env")
REQUESTER = "<@UREQ>"
ORIGIN = Origin("slack", "T0TEAM", Actor("slack", "UREQ", REQUESTER), "CMOD", "CPUB", "CGEN")
_KEPT = {"\n", "\u200d"}  # a line break; the emoji joiner


def problems(text: str, *, markup: bool, meant: Iterable[str] = ()) -> list[str]:
    """What would be live or invisible in ``text`` (mrkdwn when ``markup``)."""
    found = []
    if any(unicodedata.category(c) in ("Cc", "Cf") and c not in _KEPT for c in text):
        found.append("a control or format character")
    if markup:
        rest = text
        for mention in meant:
            rest = rest.replace(mention, "")
        if "<" in rest or ">" in rest:
            found.append("a raw < or >")
        if re.search(r"&(?!amp;|lt;|gt;)", rest):
            found.append("a raw &")
    return found


def message_problems(
    text: str, blocks: Sequence[Mapping[str, Any]], meant: Iterable[str] = ()
) -> list[str]:
    """Problems of one stored message: its ``text`` and every text object of its blocks."""
    found = [f"text: {p}" for p in problems(text, markup=True, meant=meant)]
    if not blocks and re.search(r"://|www\.", text):
        found.append("text without blocks: Slack auto-links its URL")
    for obj in text_objects(blocks):
        if obj["type"] == "mrkdwn":
            found += [f"mrkdwn: {p}" for p in problems(obj["text"], markup=True, meant=meant)]
            if obj.get("verbatim") is not True:
                found.append("mrkdwn without verbatim: Slack auto-links URLs and channels in it")
        else:
            found += [f"plain_text: {p}" for p in problems(obj["text"], markup=False)]
    return found


def text_objects(node: Any) -> Iterable[Mapping[str, Any]]:
    """Every text object inside blocks (sections, context elements, buttons, inputs)."""
    if isinstance(node, Mapping):
        if node.get("type") in ("mrkdwn", "plain_text") and isinstance(node.get("text"), str):
            yield node
        for value in node.values():
            yield from text_objects(value)
    elif isinstance(node, list):
        for item in node:
            yield from text_objects(item)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack({"CMOD": "mods", "CPUB": "jokes", "CGEN": "general"}) as slack:
        yield slack


def sender_for(fake: FakeSlack) -> SlackSender:
    return build_slack(slack_config(fake), StubSink())[1]


def effect(kind: EffectKind, payload: dict[str, Any], n: int, **kwargs: Any) -> OutboxEffect:
    return OutboxEffect(f"run1:{n}:{kind.value}", "run1", kind, ORIGIN, payload, "k", **kwargs)


@pytest.mark.parametrize(("name", "text"), HOSTILE, ids=[name for name, _ in HOSTILE])
async def test_hostile_text_is_inert_on_every_surface(
    fake: FakeSlack, name: str, text: str
) -> None:
    sender = sender_for(fake)
    card = {
        "topic": text,
        "draft": text,
        "attempt": 1,
        "max_attempts": 3,
        "model_label": text,
        "requester": text,
    }
    ref = await sender.send(effect(EffectKind.REVIEW_POST, {"token": "tok1", "card": card}, 1))
    for n, (outcome, reason, edited) in enumerate(
        [("reject", text, ""), ("edit", "", text), ("approve", "", "")], start=2
    ):
        decided = {"token": "tok1", "card": card, "outcome": outcome, "actor": text}
        decided |= {"reason": reason, "text": edited}
        await sender.send(effect(EffectKind.REVIEW_UPDATE, decided, n, card_ref=ref))
    publish = {"text": text, "topic": text, "requester": text}
    await sender.send(effect(EffectKind.PUBLISH, publish, 5))
    await sender.send(effect(EffectKind.NOTIFY, {"text": text}, 6))
    await sender.send(effect(EffectKind.ALERT, {"text": text}, 7))

    stored = [(m.text, m.blocks) for c in fake.channels.values() for m in c.messages]
    stored += [(e.text, e.blocks) for e in fake.ephemerals]
    assert len(stored) >= 4  # the card, the publish, the notice, the alert
    meant = ("<#CGEN>",)  # the DM notice names the request's channel: a mention we build
    found = {f"{i}: {p}" for i, (t, b) in enumerate(stored) for p in message_problems(t, b, meant)}
    assert not found, f"{name}: {sorted(found)}"


@pytest.mark.parametrize(("name", "text"), HOSTILE, ids=[name for name, _ in HOSTILE])
@pytest.mark.parametrize("kind", sorted(FORMS))
def test_hostile_prefill_fits_the_modal(name: str, text: str, kind: str) -> None:
    form = FORMS[kind]

    view = form_modal(form, "tok1", text)

    assert check_view(view) == []
    element = view["blocks"][0]["element"]
    assert len(element.get("initial_value", "")) <= form.max_length
    assert problems(element.get("initial_value", ""), markup=False) == []


@pytest.mark.parametrize(("name", "text"), HOSTILE, ids=[name for name, _ in HOSTILE])
def test_hostile_answers_are_inert(name: str, text: str) -> None:
    ack = answer(f"Got it! Drafting a joke about “{text}”.")  # the /joke ack echoes the topic
    told = answer(f"Already approved by <@UMOD>: {text}", ("<@UMOD>",))

    assert problems(ack, markup=True) == []
    assert problems(told, markup=True, meant=("<@UMOD>",)) == []
    assert told.startswith("Already approved by <@UMOD>")
    assert len(ack) <= 3000


@pytest.mark.parametrize(
    ("name", "text"), HOSTILE + LOOKALIKE_NAMES, ids=[n for n, _ in HOSTILE + LOOKALIKE_NAMES]
)
async def test_names_from_another_platform_are_text_on_every_card(
    fake: FakeSlack, name: str, text: str
) -> None:
    sender = sender_for(fake)
    card = {
        "topic": "cats",
        "draft": "A cat joke.",
        "attempt": 1,
        "max_attempts": 3,
        "model_label": "m",
        "requester": text,  # a Discord display name: whatever it looks like, not a mention
        "requester_name": text,
        "requester_platform": "discord",
    }
    ref = await sender.send(effect(EffectKind.REVIEW_POST, {"token": "tok1", "card": card}, 1))
    decided = {"token": "tok1", "card": card, "outcome": "approve", "actor": text}
    decided |= {"reason": "", "text": "", "via": "Discord", "actor_name": text}  # on Discord
    await sender.send(effect(EffectKind.REVIEW_UPDATE, decided, 2, card_ref=ref))

    stored = [(m.text, m.blocks) for m in fake.messages("CMOD")]
    found = {f"{i}: {p}" for i, (t, b) in enumerate(stored) for p in message_problems(t, b)}
    assert len(stored) == 1  # the card, edited in place
    assert not found, f"{name}: {sorted(found)}"
    head = stored[0][1][0]["text"]["text"]
    assert head.endswith(" (Discord)")  # "requested by <name> (Discord)"
    assert "via Discord" in stored[0][1][-1]["elements"][0]["text"]


async def test_same_platform_card_keeps_the_requesters_mention(fake: FakeSlack) -> None:
    card = {
        "topic": "cats",
        "draft": "A cat joke.",
        "attempt": 1,
        "max_attempts": 3,
        "model_label": "m",
        "requester": "<@UREQ>",
        "requester_name": "ureq",
        "requester_platform": "slack",
    }
    await sender_for(fake).send(effect(EffectKind.REVIEW_POST, {"token": "t1", "card": card}, 1))

    [message] = fake.messages("CMOD")
    assert message.blocks[0]["text"]["text"].endswith("requested by <@UREQ>")
