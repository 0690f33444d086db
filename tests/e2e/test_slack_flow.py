"""Whole scenarios: real slack-bolt / slack-sdk, the fake Slack and the real jokebot core.

The core (SQLite file, runtime, joke flow, service) comes from ``tests.support.stack``; only
the LLM and the clock are fakes. The runtime is driven with ``drain()`` so every step is
deterministic.
"""

import asyncio
import copy
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from adapters.slack_adapter._buttons import EDIT_ACTION, EDIT_BLOCK, REASON_ACTION, REASON_BLOCK
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack, Message
from tests.support.llm import FakeLLM, GatedLLM
from tests.support.slack_harness import MOD, SlackHttp, settle, slack_http
from tests.support.slack_payloads import new_trigger, submission_payload
from tests.support.stack import Stack, joke_stack

JOKE1 = "What do cats eat for breakfast? Mice Krispies."
JOKE2 = "Why was the cat so good at video games? It had nine lives."
MOD2 = "UMOD2"
REQUESTER = "UREQ"


pytestmark = pytest.mark.usefixtures("no_slack_env")


@dataclass
class World:
    """The fake Slack, the core, and the currently running adapter."""

    fake: FakeSlack
    stack: Stack
    llm: FakeLLM
    slack: SlackHttp

    async def ask(self, topic: str, trigger: str | None = None) -> None:
        seen = len(self.fake.webhooks)
        status, _, _ = await self.slack.joke(topic, user=REQUESTER, trigger=trigger)
        assert status == 200
        await self.fake.wait_webhooks(seen + 1)

    def cards(self) -> list[Message]:
        return [m for m in self.fake.messages("CMOD") if m.metadata]

    def card(self, index: int = -1) -> dict[str, Any]:
        """A snapshot of a card as a client still shows it (blocks included)."""
        return snapshot(self.cards()[index])

    def status_line(self, index: int = -1) -> str:
        blocks = self.cards()[index].blocks
        actions = [b for b in blocks if b["type"] == "actions"]
        return "" if actions else str(blocks[-1]["elements"][0]["text"])

    def public_posts(self) -> list[Message]:
        return self.fake.messages("CPUB")

    async def click(self, card: dict[str, Any], action: str, user: str = MOD) -> str:
        """Click and return what the clicker was told ephemerally ("" if nothing)."""
        seen = len(self.fake.webhooks)
        status, _, _ = await self.slack.click(card, action, user=user)
        assert status == 200
        await settle()
        told = [body["text"] for _, body in self.fake.webhooks[seen:]]
        return "\n".join(str(t) for t in told)

    async def modal(self, card: dict[str, Any], action: str, user: str = MOD) -> dict[str, Any]:
        opened = len(self.fake.calls_to("views.open"))
        await self.slack.click(card, action, user=user)
        calls = await self.fake.wait_for("views.open", opened + 1)
        view: dict[str, Any] = calls[-1].params["view"]
        return view

    async def submit(
        self, view: dict[str, Any], values: dict[str, dict[str, str]]
    ) -> dict[str, Any]:
        status, body = await self.slack.submit(submission_payload(view, user=MOD, values=values))
        assert status == 200
        return body


def snapshot(message: Message) -> dict[str, Any]:
    """A message as a client still shows it, unaffected by later edits."""
    return copy.deepcopy({"ts": message.ts, "text": message.text, "blocks": message.blocks})


async def card_before_restart(stack: Stack, fake: FakeSlack) -> dict[str, Any]:
    """Ask for a joke through a first adapter, drain to its review card; the card's snapshot."""
    async with slack_http(stack.service, fake) as slack:
        stack.register("slack", slack.sender)
        await slack.joke("cats", user=REQUESTER)
        await fake.wait_webhooks(1)
        await stack.drain()
    return snapshot(fake.messages("CMOD")[0])


@asynccontextmanager
async def world(
    tmp_path: Path, *replies: str, clock: FakeClock | None = None, llm: FakeLLM | None = None
) -> AsyncIterator[World]:
    model = llm or FakeLLM(*(replies or (JOKE1,)))
    async with (
        FakeSlack(usergroups={"SMODS": [MOD2]}) as fake,
        joke_stack(tmp_path, llm=model, clock=clock, serve=False) as stack,
        slack_http(stack.service, fake, moderator_group="SMODS") as slack,
    ):
        stack.register("slack", slack.sender)
        yield World(fake, stack, model, slack)


async def test_happy_path(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.ask("cats")
        await w.stack.drain()

        (card,) = w.cards()
        assert JOKE1 in str(card.blocks)
        assert f"<@{REQUESTER}>" in str(card.blocks)
        told = await w.click(w.card(), "approve")
        assert told == ""
        assert w.status_line() == f"✅ Approved by <@{MOD}>"  # the click stamped it at once
        await w.stack.drain()

        (post,) = w.public_posts()
        assert JOKE1 in post.text
        assert f"<@{REQUESTER}>" in post.text
        assert post.metadata is not None
        assert post.metadata["event_type"] == "jokebot_effect"
        assert w.status_line() == f"✅ Approved by <@{MOD}>"
        (ack,) = [b for _, b in w.fake.webhooks]
        assert "cats" in ack["text"]
        notices = w.fake.calls_to("chat.postEphemeral")
        assert [c.params["user"] for c in notices] == [REQUESTER]


async def test_reject_with_reason_regenerates_then_approve(tmp_path: Path) -> None:
    async with world(tmp_path, JOKE1, JOKE2) as w:
        await w.ask("cats")
        await w.stack.drain()
        first = w.card()

        view = await w.modal(first, "reason")
        assert await w.submit(view, {REASON_BLOCK: {REASON_ACTION: "too old"}}) == {}
        await w.stack.drain()

        assert len(w.cards()) == 2
        assert w.status_line(0) == f"❌ Rejected by <@{MOD}>: too old"
        assert JOKE2 in str(w.cards()[1].blocks)
        told = await w.click(first, "approve")
        assert "stale" in told.lower() or "newer" in told.lower()
        await w.click(w.card(), "approve")
        await w.stack.drain()

        (post,) = w.public_posts()
        assert JOKE2 in post.text


async def test_plain_reject_regenerates_at_once(tmp_path: Path) -> None:
    async with world(tmp_path, JOKE1, JOKE2) as w:
        await w.ask("cats")
        await w.stack.drain()

        assert await w.click(w.card(), "reject") == ""
        await w.stack.drain()

        assert w.fake.calls_to("views.open") == []
        assert w.status_line(0) == f"❌ Rejected by <@{MOD}>"
        assert len(w.cards()) == 2
        assert JOKE2 in str(w.cards()[1].blocks)
        assert w.public_posts() == []


async def test_edit_publishes_the_edited_text(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.ask("cats")
        await w.stack.drain()

        view = await w.modal(w.card(), "edit")
        assert view["blocks"][0]["element"]["initial_value"] == JOKE1
        blank = await w.submit(view, {EDIT_BLOCK: {EDIT_ACTION: "   "}})
        assert blank["response_action"] == "errors"
        assert await w.submit(view, {EDIT_BLOCK: {EDIT_ACTION: "Cats: purr-fect comedians."}}) == {}
        await w.stack.drain()

        (post,) = w.public_posts()
        assert "Cats: purr-fect comedians." in post.text
        assert w.status_line() == f"✏️ Edited and approved by <@{MOD}>"


async def test_non_moderator_click_is_refused_and_changes_nothing(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.ask("cats")
        await w.stack.drain()

        told = await w.click(w.card(), "approve", user="URANDOM")
        await w.stack.drain()

        assert told
        assert "moderator" in told.lower()
        assert w.public_posts() == []
        assert w.status_line() == ""  # still pending, buttons intact


async def test_non_moderator_edit_gets_no_modal(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.ask("cats")
        await w.stack.drain()

        told = await w.click(w.card(), "edit", user="URANDOM")

        assert "moderator" in told.lower()
        assert w.fake.calls_to("views.open") == []


async def test_group_member_decides(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.ask("cats")
        await w.stack.drain()

        assert await w.click(w.card(), "approve", user=MOD2) == ""
        await w.stack.drain()

        assert len(w.public_posts()) == 1


async def test_concurrent_double_click_has_one_winner(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.ask("cats")
        await w.stack.drain()
        card = w.card()

        await asyncio.gather(
            w.slack.click(card, "approve", user=MOD), w.slack.click(card, "approve", user=MOD2)
        )
        await settle()
        await w.stack.drain()

        assert len(w.public_posts()) == 1
        status = w.status_line()
        winner = {f"✅ Approved by <@{u}>": u for u in (MOD, MOD2)}[status]
        (loser,) = [str(b["text"]) for _, b in w.fake.webhooks[1:]]  # one answer, to the loser
        assert f"<@{winner}> " in loser + " "
        assert "already" in loser.lower()


async def test_restart_between_card_and_click(tmp_path: Path) -> None:
    llm = FakeLLM(JOKE1)
    async with FakeSlack() as fake, joke_stack(tmp_path, llm=llm, serve=False) as stack:
        card = await card_before_restart(stack, fake)

        await stack.restart()  # every in-memory object of the bot is gone; Slack keeps the card

        async with slack_http(stack.service, fake) as slack:
            stack.register("slack", slack.sender)
            await stack.runtime.recover()
            await slack.click(card, "approve")
            await settle()
            await stack.drain()

        (post,) = fake.messages("CPUB")
        assert JOKE1 in post.text
        assert len(fake.messages("CMOD")) == 1  # no second card after the restart
        assert llm.call_count == 1


async def test_expiry_while_down(tmp_path: Path) -> None:
    clock = FakeClock()
    llm = FakeLLM(JOKE1)
    async with (
        FakeSlack() as fake,
        joke_stack(tmp_path, llm=llm, clock=clock, serve=False) as stack,
    ):
        card = await card_before_restart(stack, fake)

        await stack.stop()
        clock.advance(stack.options.review_timeout_s + 60)  # the bot was down past the deadline
        await stack.start()

        async with slack_http(stack.service, fake) as slack:
            stack.register("slack", slack.sender)
            await stack.runtime.recover()
            await stack.drain()
            seen = len(fake.webhooks)
            await slack.click(card, "approve")
            told = await fake.wait_webhooks(seen + 1)

        assert fake.messages("CPUB") == []
        status = fake.messages("CMOD")[0].blocks[-1]["elements"][0]["text"]
        assert status.startswith("⌛ Expired")
        assert "expired" in str(told[-1]["text"]).lower()


async def test_429_on_the_relay_is_retried_not_dropped(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        await w.ask("cats")
        await w.stack.drain()
        await w.click(w.card(), "approve")
        w.fake.fail_next("chat.postMessage", 1, retry_after=1)
        start = time.monotonic()

        await w.stack.drain()

        assert time.monotonic() - start >= 1.0
        (post,) = w.public_posts()
        assert JOKE1 in post.text


async def test_retried_delivery_starts_one_run(tmp_path: Path) -> None:
    async with world(tmp_path) as w:
        trigger = new_trigger()
        await w.ask("cats", trigger=trigger)
        await w.ask("cats", trigger=trigger)  # Slack redelivered (X-Slack-Retry-Num: 1)
        await w.stack.drain()

        assert len(w.cards()) == 1
        assert w.llm.call_count == 1


async def test_slow_llm_does_not_delay_the_ack(tmp_path: Path) -> None:
    llm = GatedLLM(JOKE1)
    async with FakeSlack() as fake, joke_stack(tmp_path, llm=llm, serve=True) as stack:
        async with slack_http(stack.service, fake) as slack:
            stack.register("slack", slack.sender)

            status, _, elapsed = await slack.joke("cats", user=REQUESTER)
            (answer,) = await fake.wait_webhooks(1)
            assert fake.messages("CMOD") == []  # the model is still "thinking"
            llm.release.set()
            await fake.wait_until(lambda: len(fake.messages("CMOD")) == 1)

        assert status == 200
        assert elapsed < 1.0
        assert "cats" in answer["text"]
