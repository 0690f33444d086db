"""Slack-only whole flows: real slack-bolt / slack-sdk, the fake Slack and the real jokebot core.

The review scenarios every surface shares are in ``tests/e2e/scenarios``; these cases are
Slack's own (a moderator by user group, 429 on the relay, redelivered commands, the 3 s ack,
saving before the ack, typed entities, modal resubmits, lost answers in a busy channel).
They drive the Slack surface (``tests.support.surfaces``) or, for a serving core, the adapter.
"""

import asyncio
import json
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest

from adapters.slack_adapter._buttons import EDIT_ACTION, EDIT_BLOCK
from bot.models import JokeRequest, RequestResult
from bot.ports import EventSink
from tests.support.fake_slack import FakeSlack
from tests.support.llm import FakeLLM, GatedLLM
from tests.support.slack_harness import slack_http
from tests.support.slack_payloads import new_trigger, submission_payload
from tests.support.stack import joke_stack
from tests.support.surfaces import JOKES, Person, SlackSurface, open_slack

JOKE1, _, _ = JOKES


pytestmark = pytest.mark.usefixtures("no_slack_env")


@pytest.fixture
async def surface(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackSurface]:
    """The real Bolt app over HTTP on a fake workspace, over the real core (drain-driven)."""
    async with open_slack(tmp_path, monkeypatch, FakeLLM(*JOKES)) as opened:
        yield opened


async def test_group_member_decides(surface: SlackSurface) -> None:
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()

    told = await surface.approve(card, by=Person.SECOND_MODERATOR)  # a moderator via the group
    await surface.drain()

    assert told == ""
    assert len(surface.public_posts()) == 1


async def test_429_on_the_relay_is_retried_not_dropped(surface: SlackSurface) -> None:
    await surface.ask("cats")
    await surface.drain()
    await surface.approve(surface.cards()[0])
    surface.fake.fail_next("chat.postMessage", 1, retry_after=1)
    start = time.monotonic()

    await surface.drain()

    assert time.monotonic() - start >= 1.0
    [post] = surface.public_posts()
    assert JOKE1 in post


async def test_retried_delivery_starts_one_run(surface: SlackSurface) -> None:
    trigger = new_trigger()

    answers = set()
    for retry in (None, 1):  # Slack redelivered the command (X-Slack-Retry-Num: 1)
        status, text, _ = await surface.slack.joke("cats", trigger=trigger, retry=retry)
        assert status == 200
        answers.add(text)
    await surface.drain()

    assert len(answers) == 1  # the same answer, in both acks

    assert len(surface.cards()) == 1
    assert surface.llm.call_count == 1


async def test_slow_llm_does_not_delay_the_ack(tmp_path: Path) -> None:
    llm = GatedLLM(JOKE1)
    async with FakeSlack() as fake, joke_stack(tmp_path, llm=llm, serve=True) as stack:
        async with slack_http(stack.service, fake) as slack:
            stack.register("slack", slack.sender)

            status, text, elapsed = await slack.joke("cats")
            answer = json.loads(text)  # saved, then answered in the ack
            assert fake.messages("CMOD") == []  # the model is still "thinking"
            llm.release.set()
            await fake.wait_until(lambda: len(fake.messages("CMOD")) == 1)

        assert status == 200
        assert elapsed < 1.0
        assert "cats" in answer["text"]


@dataclass
class SlowSave:
    """The real service behind a save that takes ``delay_s`` (a busy disk)."""

    service: EventSink
    delay_s: float

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        await asyncio.sleep(self.delay_s)
        return await self.service.request_joke(request)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.service, name)


async def test_acknowledged_joke_is_already_saved(tmp_path: Path) -> None:
    async with FakeSlack() as fake, joke_stack(tmp_path, llm=FakeLLM(JOKE1), serve=False) as stack:
        sink = SlowSave(stack.service, 0.3)
        async with slack_http(cast(EventSink, sink), fake) as slack:
            trigger = new_trigger()
            status, text, _ = await slack.joke("cats", user="UREQ", trigger=trigger)

            # The moment Slack has the ack, the run is in the database: a kill -9 from here
            # on cannot lose an acknowledged request.
            saved = await stack.service.run_status(f"slack:T0TEAM:{trigger}")
            assert saved is not None
            assert status == 200
            assert "cats" in json.loads(text)["text"]


async def test_typed_ampersands_reach_the_card_and_the_model_once_decoded(
    surface: SlackSurface,
) -> None:
    await surface.ask("Tom & Jerry")
    await surface.drain()

    (call,) = surface.llm.calls
    assert "Tom & Jerry" in call.user
    assert "&amp;" not in call.text
    card = surface.fake.messages("CMOD")[0]
    assert "*Tom &amp; Jerry*" in card.blocks[0]["text"]["text"]  # escaped once: shows "&"
    assert "&amp;amp;" not in str(card.blocks)


async def open_edit_modal(surface: SlackSurface, user: str) -> dict[str, Any]:
    """Click Edit on the newest card; the modal as Slack opened it (with its id and hash)."""
    opened = len(surface.fake.calls_to("views.open"))
    await surface.slack.click(surface.cards()[-1].seen, "edit", user=user)
    await surface.fake.wait_for("views.open", opened + 1)
    return list(surface.fake.views.values())[-1]


async def test_modal_resubmitted_after_a_refusal_is_applied(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # the moderator group is looked up on every decision
    async with open_slack(tmp_path, monkeypatch, FakeLLM(*JOKES), group_cache_s=0.0) as surface:
        await surface.ask("cats")
        await surface.drain()
        second = "UMOD2"
        view = await open_edit_modal(surface, second)
        edited = {EDIT_BLOCK: {EDIT_ACTION: "Cats: purr-fect comedians."}}

        surface.fake.usergroups["SMODS"] = []  # the moderator dropped from the group...
        refused = await surface.slack.submit(submission_payload(view, user=second, values=edited))
        surface.fake.usergroups["SMODS"] = [second]  # ...and put back: the same modal again
        again = await surface.slack.submit(submission_payload(view, user=second, values=edited))
        await surface.drain()

        assert refused[1]["response_action"] == "errors"
        assert "moderator" in str(refused[1]["errors"]).lower()
        assert again == (200, {})  # the modal closes: this time the decision was applied
        [post] = surface.public_posts()
        assert "Cats: purr-fect comedians." in post


async def test_modal_submission_delivered_twice_decides_once(surface: SlackSurface) -> None:
    await surface.ask("cats")
    await surface.drain()
    view = await open_edit_modal(surface, "UMOD")
    payload = submission_payload(view, user="UMOD", values={EDIT_BLOCK: {EDIT_ACTION: "Once."}})

    first = await surface.slack.submit(payload)
    second = await surface.slack.submit(payload)  # the same envelope again: a true duplicate
    await surface.drain()

    assert first == second == (200, {})
    [post] = surface.public_posts()
    assert "Once." in post


async def test_lost_answer_in_a_busy_channel_is_posted_once(surface: SlackSurface) -> None:
    await surface.ask("cats")
    await surface.drain()
    await surface.approve(surface.cards()[0])
    surface.fake.busy["CPUB"] = (300, 300)  # hundreds of other messages after the bot's post
    surface.fake.fail_next(
        "chat.postMessage", 1, status=200, error="internal_error", apply_then_error=True
    )

    await surface.drain()  # posted, but the answer was lost: in flight
    await surface.later(5)  # past the retry's backoff: reconciles before sending again

    posts = [m for m in surface.fake.messages("CPUB") if m.metadata]
    assert len(posts) == 1
    assert JOKE1 in posts[0].text
    assert surface.fake.calls_to("conversations.history")
