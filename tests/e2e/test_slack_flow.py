"""Slack-only whole flows: real slack-bolt / slack-sdk, the fake Slack and the real jokebot core.

The review scenarios every surface shares are in ``tests/e2e/scenarios``; these cases are
Slack's own (a moderator by user group, 429 on the relay, redelivered commands, the 3 s ack).
They drive the Slack surface (``tests.support.surfaces``) or, for a serving core, the adapter.
"""

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.support.fake_slack import FakeSlack
from tests.support.llm import FakeLLM, GatedLLM
from tests.support.slack_harness import slack_http
from tests.support.slack_payloads import new_trigger
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

    for retry in (None, 1):  # Slack redelivered the command (X-Slack-Retry-Num: 1)
        status, _, _ = await surface.slack.joke("cats", trigger=trigger, retry=retry)
        assert status == 200
    await surface.fake.wait_webhooks(2)
    await surface.drain()

    assert len(surface.cards()) == 1
    assert surface.llm.call_count == 1


async def test_slow_llm_does_not_delay_the_ack(tmp_path: Path) -> None:
    llm = GatedLLM(JOKE1)
    async with FakeSlack() as fake, joke_stack(tmp_path, llm=llm, serve=True) as stack:
        async with slack_http(stack.service, fake) as slack:
            stack.register("slack", slack.sender)

            status, _, elapsed = await slack.joke("cats")
            (answer,) = await fake.wait_webhooks(1)
            assert fake.messages("CMOD") == []  # the model is still "thinking"
            llm.release.set()
            await fake.wait_until(lambda: len(fake.messages("CMOD")) == 1)

        assert status == 200
        assert elapsed < 1.0
        assert "cats" in answer["text"]
