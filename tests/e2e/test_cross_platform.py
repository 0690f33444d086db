"""A request typed in Discord, reviewed in Slack and in a second Discord channel, on the real
discord.py client and the real Bolt app against the fakes, over one core.

Approving in Slack publishes once in the Discord channel, edits every card ("… via Slack") and
tells the requester on Discord; with a restart between every step the outcome is the same. Two
moderators clicking the same card at once from Slack and from Discord: one winner, and the
other is told who won and where, on its own platform.
"""

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable
from pathlib import Path

import pytest

from bot.joke import prompts
from bot.review import ReviewAction, outcome_line
from tests.support.cross_platform import TwoPlatforms, two_platforms
from tests.support.llm import FakeLLM
from tests.support.surfaces import JOKES, Person

pytestmark = pytest.mark.usefixtures("no_slack_env")
JOKE1 = JOKES[0]
log = logging.getLogger(__name__)
MODERATOR = Person.MODERATOR


@pytest.fixture
async def both(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TwoPlatforms]:
    """Both platforms over one core, the guild's reviews routed to Slack and a second channel."""
    async with two_platforms(tmp_path, monkeypatch, FakeLLM(*JOKES)) as opened:
        answers = await opened.route_guild()
        assert all("now reviewed in this channel" in a for a in answers), answers
        yield opened


@pytest.mark.parametrize("restarts", [False, True], ids=["no_restart", "restart_each_step"])
async def test_asked_on_discord_approved_on_slack_publishes_once_on_discord(
    both: TwoPlatforms, restarts: bool
) -> None:
    async def step() -> None:
        if restarts:
            await both.restart()

    told = await both.discord.ask("cats")
    await step()  # the run is saved, nothing drafted yet
    await both.drain()
    await step()  # the cards are out
    pending = both.cards()
    [on_slack] = pending["slack"]
    answer = await both.slack.approve(on_slack)
    await step()  # decided, nothing delivered yet
    await both.drain()
    await step()
    await both.drain()

    assert "cats" in told
    for where, cards in pending.items():
        [card] = cards
        assert card.live, where
        assert card.draft == JOKE1, where
    assert answer == ""  # the card itself shows the outcome
    assert both.discord.public_posts() == [JOKE1]
    assert both.slack.public_posts() == []
    who = both.slack.display(MODERATOR)
    decided = {where: [(c.live, c.draft) for c in cards] for where, cards in both.cards().items()}
    assert decided == {where: [(False, JOKE1)] for where in ("discord", "slack", "discord-2")}
    for where, card in both.every_card():
        assert "via Slack" in card.status, (where, card.status)
        assert "Approved by" in card.status, (where, card.status)
    [slack_card] = both.slack.cards()
    assert slack_card.status == outcome_line(ReviewAction.APPROVE, who, via="Slack")
    assert any(prompts.PUBLISHED.format(topic="cats") in n for n in both.discord.notices())
    assert both.slack.notices() == []  # the requester is on Discord
    assert both.discord.alerts() == []
    assert both.slack.alerts() == []
    assert both.llm.call_count == 1


async def after(seconds: float, click: Awaitable[str]) -> str:
    """``click`` once ``seconds`` of real time have passed (a later finger)."""
    await asyncio.sleep(seconds)
    return await click


@pytest.mark.parametrize("slack_late_s", [0.0, 0.002, 0.01, 0.05])
async def test_a_race_from_slack_and_discord_has_one_winner_and_the_loser_is_told_where(
    both: TwoPlatforms, slack_late_s: float
) -> None:
    await both.discord.ask("cats")
    await both.drain()
    [on_discord] = both.discord.cards()
    [on_slack] = both.slack.cards()

    from_discord, from_slack = await asyncio.gather(
        both.discord.approve(on_discord), after(slack_late_s, both.slack.approve(on_slack))
    )
    await both.drain()

    assert both.discord.public_posts() == [JOKE1]
    assert both.slack.public_posts() == []
    if from_slack == "":  # Slack won: the Discord moderator is told on Discord
        loser, winner, where = from_discord, both.slack.display(MODERATOR), "Slack"
    else:
        assert from_discord == "", (from_discord, from_slack)
        loser, winner, where = from_slack, both.discord.display(MODERATOR), "Discord"
    log.info("race, Slack %s s late: %s won; the other was told %r", slack_late_s, where, loser)
    assert loser.startswith("Already approved by"), loser
    assert f"via {where}" in loser, loser
    assert winner.strip("<@>") in loser, loser
    for surface, card in both.every_card():
        assert not card.live, surface
        assert f"via {where}" in card.status, (surface, card.status)
    published = prompts.PUBLISHED.format(topic="cats")
    assert [n for n in both.discord.notices() if published in n] == [published]
    assert both.slack.notices() == []


async def test_a_click_on_slack_after_discord_decided_is_told_on_slack_who_and_where(
    both: TwoPlatforms,
) -> None:
    await both.discord.ask("cats")
    await both.drain()
    [on_discord] = both.discord.cards()
    [on_slack] = both.slack.cards()  # a Slack client still showing the buttons

    first = await both.discord.approve(on_discord)
    late = await both.slack.approve(on_slack)
    await both.drain()

    assert first == ""
    who = both.discord.display(MODERATOR)
    assert late.startswith(f"Already approved by {who} via Discord"), late
    assert both.discord.public_posts() == [JOKE1]
    [decided] = both.slack.cards()
    assert decided.status == outcome_line(ReviewAction.APPROVE, who, via="Discord")
