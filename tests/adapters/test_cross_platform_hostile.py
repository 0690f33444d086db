"""The hostile corpus through the renderers when the text comes from the *other* platform.

With queues, a Slack card can show a Discord requester and a Discord moderator's decision
("… by Mo via Discord"), and a Discord card a Slack one. tests/adapters/test_slack_hostile.py
and test_discord_render.py render each platform's own cards; here every corpus entry is the
name or reason of someone on the other platform, with ``via`` set, through the real senders
(Slack: the strict fake records what it stored; Discord: the renderers the sender uses).

A name that looks like one of the rendering platform's own mentions (a Discord user called
``<@U0123ABCD>``) must stay text there: mentions never ping across platforms.
"""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from adapters.discord_adapter._render import card_embed, decided_embed, joke_embed
from adapters.slack_adapter import SlackSender, build_slack
from bot.models import Actor, EffectKind, Origin, OutboxEffect, Surface
from bot.review import CardUpdate
from tests.adapters.test_discord_render import check_embed
from tests.adapters.test_slack_hostile import message_problems
from tests.support.fake_slack import FakeSlack
from tests.support.hostile import HOSTILE
from tests.support.slack_harness import StubSink, slack_config

pytestmark = pytest.mark.usefixtures("no_slack_env")
IDS = [name for name, _ in HOSTILE]
SLACK_LOOKALIKE = "<@U0123ABCD>"  # a Discord display name shaped like a Slack mention


def discord_origin(name: str) -> Origin:
    """A request made on Discord, reviewed on Slack's CMOD too."""
    surfaces = (Surface("discord", "mods"), Surface("slack", "CMOD"))
    requester = Actor("discord", "1200", name)
    return Origin("discord", "guild1", requester, "mods", "fun", "general", surfaces)


def card(text: str, requester: str) -> dict[str, Any]:
    return {
        "topic": text,
        "draft": text,
        "attempt": 1,
        "max_attempts": 3,
        "model_label": "gpt-4o-mini",
        "requester": requester,
    }


def effect(
    kind: EffectKind, payload: dict[str, Any], n: int, origin: Origin, **kwargs: Any
) -> OutboxEffect:
    return OutboxEffect(f"run1:{n}:{kind.value}", "run1", kind, origin, payload, "k", **kwargs)


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack({"CMOD": "mods", "CPUB": "jokes", "CGEN": "general"}) as slack:
        yield slack


def sender_for(fake: FakeSlack) -> SlackSender:
    return build_slack(slack_config(fake), StubSink())[1]


async def slack_card_decided_from_discord(fake: FakeSlack, name: str, reason: str) -> None:
    """A Discord request's card on Slack, then decided on Discord by ``name`` (three ways)."""
    origin = discord_origin(name)
    surface = {"surface": Surface("slack", "CMOD").to_json()}
    sender = sender_for(fake)
    post = {"token": "tok1", "card": card(reason, name), **surface}
    ref = await sender.send(effect(EffectKind.REVIEW_POST, post, 1, origin))
    for n, (outcome, why, edited) in enumerate(
        [("reject", reason, ""), ("edit", "", reason), ("approve", "", "")], start=2
    ):
        update = {"token": "tok1", "card": card(reason, name), "outcome": outcome}
        update |= {"actor": name, "reason": why, "text": edited, "via": "Discord", **surface}
        await sender.send(effect(EffectKind.REVIEW_UPDATE, update, n, origin, card_ref=ref))


@pytest.mark.parametrize(("name", "text"), HOSTILE, ids=IDS)
async def test_slack_shows_a_discord_name_and_reason_inertly(
    fake: FakeSlack, name: str, text: str
) -> None:
    await slack_card_decided_from_discord(fake, text, text)

    stored = [(m.text, m.blocks) for m in fake.messages("CMOD")]
    assert len(stored) == 1  # the card, edited in place
    found = {p for t, b in stored for p in message_problems(t, b)}
    assert not found, f"{name}: {sorted(found)}"


async def test_a_discord_name_shaped_like_a_slack_mention_does_not_ping_on_slack(
    fake: FakeSlack,
) -> None:
    await slack_card_decided_from_discord(fake, SLACK_LOOKALIKE, "too mean")

    [card_message] = fake.messages("CMOD")
    assert SLACK_LOOKALIKE not in card_message.text
    assert SLACK_LOOKALIKE not in str(card_message.blocks)


@pytest.mark.parametrize("via", ["Slack", "Discord"])
@pytest.mark.parametrize("outcome", ["approve", "edit", "reject", "timeout"])
@pytest.mark.parametrize("text", [t for _, t in HOSTILE], ids=IDS)
def test_discord_shows_another_platforms_name_and_reason_inertly(
    text: str, outcome: str, via: str
) -> None:
    update: CardUpdate = {
        "token": "Tok1",
        "card": {
            "topic": text,
            "draft": text,
            "attempt": 1,
            "max_attempts": 3,
            "model_label": "gpt-4o-mini",
            "requester": text,
        },
        "outcome": outcome,
        "actor": text,
        "reason": text,
        "text": text,
        "via": via,
    }

    line, embed = decided_embed(update)

    check_embed(embed, line)
    assert len(line) <= 2000
    if outcome != "timeout" and len(text) <= 100:  # platform names are at most 80 characters
        assert f"via {via}" in line
    check_embed(card_embed(update["card"], key="k" * 25))
    check_embed(joke_embed(text, text, key="k" * 25))
