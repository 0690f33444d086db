"""A crash around a Slack click's decision: the click is acknowledged only once it is saved.

The crash points of the runtime stand for ``kill -9``: after one fires, the process is gone
(``restart``: a new core and adapter over the same database). Slack, having no ack, delivers
the same interaction again; the inbox makes that delivery count once.
"""

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.store import WaitStatus
from tests.support.llm import FakeLLM
from tests.support.slack_harness import MOD
from tests.support.slack_payloads import click_payload, form, new_trigger
from tests.support.surfaces import JOKES, SlackSurface, open_slack

pytestmark = pytest.mark.usefixtures("no_slack_env")


@pytest.fixture
async def surface(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[SlackSurface]:
    async with open_slack(tmp_path, monkeypatch, FakeLLM(*JOKES)) as opened:
        yield opened


async def approve_click(surface: SlackSurface) -> tuple[str, str]:
    """The form body of an Approve click on the one card, and the card's wait token."""
    await surface.ask("cats")
    await surface.drain()
    [card] = surface.cards()
    payload: dict[str, Any] = click_payload(
        card.seen,
        "CMOD",
        "approve",
        user=MOD,
        trigger=new_trigger(),
        response_url=surface.fake.webhook_url(f"click-{MOD}"),
    )
    async with surface.stack.store.read() as tx:
        [wait] = await tx.pending_waits("slack", "T0TEAM")
    return form(payload), wait.token


async def wait_status(surface: SlackSurface, token: str) -> WaitStatus:
    async with surface.stack.store.read() as tx:
        wait = await tx.get_wait(token)
    assert wait is not None
    return wait.status


def live(surface: SlackSurface) -> bool:
    """Whether the card still has its buttons."""
    [card] = surface.cards()
    return any(b["type"] == "actions" for b in card.seen["blocks"])


async def test_a_crash_after_the_commit_keeps_the_decision_and_the_retry_is_a_duplicate(
    surface: SlackSurface,
) -> None:
    body, token = await approve_click(surface)
    surface.stack.crash.arm("decide.after_commit_before_ack")

    crashed, _, _ = await surface.slack.post(body)
    await surface.restart()
    retried, _, _ = await surface.slack.post(body, retry=1)  # Slack got no ack: again
    await surface.drain()

    assert crashed != 200  # no ack went out before the crash...
    assert retried == 200
    assert await wait_status(surface, token) is WaitStatus.DECIDED  # ...yet the decision stood
    assert not live(surface)
    [post] = surface.public_posts()  # one, once
    assert JOKES[0] in post


async def test_a_crash_before_the_commit_leaves_the_card_clickable_and_the_retry_applies(
    surface: SlackSurface,
) -> None:
    body, token = await approve_click(surface)
    surface.stack.crash.arm("decide.in_tx")

    crashed, _, _ = await surface.slack.post(body)
    await surface.restart()
    pending = await wait_status(surface, token)
    still_live = live(surface)
    retried, _, _ = await surface.slack.post(body, retry=1)
    await surface.drain()

    assert crashed != 200  # never acknowledged, so Slack delivers it again
    assert pending is WaitStatus.PENDING
    assert still_live
    assert retried == 200
    assert await wait_status(surface, token) is WaitStatus.DECIDED
    assert not live(surface)
    [post] = surface.public_posts()  # one, once
    assert JOKES[0] in post
