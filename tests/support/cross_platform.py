"""One core, both platforms: a Discord guild whose reviews are routed to Slack and to a second
Discord channel, driven through the real discord.py client and the real Bolt app on the fakes.

:func:`two_platforms` opens a fake Discord, a fake Slack and one core (``tests.support.stack``)
with the Discord and Slack surface drivers over it; :class:`TwoPlatforms` links the routes the
way people do (``/jokelink`` in Discord, ``/joke link CODE`` in Slack, ``/jokelink code:CODE``
in the second Discord channel), reads the cards of every review surface and restarts
everything but the database and the platforms.
"""

import copy
import json
import re
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.models import Surface
from tests.support.clock import FakeClock
from tests.support.fake_discord import (
    ADMIN,
    APP_ID,
    MOD_CHANNEL,
    FakeDiscord,
    button_ids,
    serve_fake,
    slash,
)
from tests.support.fake_discord._world import GUILD_CHANNELS, GUILD_ID
from tests.support.fake_slack import FakeSlack
from tests.support.llm import FakeLLM
from tests.support.slack_harness import MOD as SLACK_MOD, settle
from tests.support.slack_payloads import command_body, new_trigger
from tests.support.stack import joke_stack
from tests.support.surfaces import Card, DiscordSurface, Person, SlackSurface
from tests.support.surfaces._discord import CARD_TITLE
from tests.support.surfaces._slack import MOD_CHANNEL as SLACK_MOD_CHANNEL, MOD_GROUP, USERS

SECOND_CHANNEL = 1_200_000_000_000_000_205  # a second Discord review channel, for these tests
SECOND_NAME = "joke-review-2"
CODE = re.compile(r"\b([A-Z0-9]{4}-[A-Z0-9]{4})\b")


def add_second_channel(monkeypatch: pytest.MonkeyPatch) -> None:
    """Give the fake guild :data:`SECOND_CHANNEL` for the test (GUILD_CREATE lists it)."""
    monkeypatch.setitem(GUILD_CHANNELS, SECOND_CHANNEL, SECOND_NAME)


def discord_cards(fake: FakeDiscord, channel: int) -> list[Card]:
    """The review cards a Discord channel shows, oldest first (as ``DiscordSurface.cards``)."""
    return [
        Card(
            draft=str(m["embeds"][0]["description"]),
            live=bool(button_ids(m)),
            status=str(m["content"]),
            seen=copy.deepcopy(m),
        )
        for m in fake.messages(channel)
        if m["embeds"] and m["embeds"][0].get("title") == CARD_TITLE
    ]


async def discord_command(
    fake: FakeDiscord, name: str, options: dict[str, str], channel: int
) -> str:
    """An admin's slash command in ``channel``; the ephemeral text it was answered with."""
    iid = await fake.interact(slash(name, options, user=ADMIN, channel_id=channel))
    answer = await fake.wait_for_path("POST", rf"/interactions/{iid}/[^/]+/callback")
    if answer.body["type"] == 4:
        return str(answer.body["data"]["content"])
    followup = await fake.wait_for_path("POST", rf"/webhooks/{APP_ID}/[^/]+")
    return str(followup.body["content"])


def link_code(answer: str) -> str:
    """The code in ``/jokelink``'s (or ``/joke link``'s) answer."""
    found = CODE.search(answer)
    assert found is not None, f"no link code in {answer!r}"
    return found.group(1)


@dataclass
class TwoPlatforms:
    """The Discord and Slack drivers over one core; Discord's guild is the requesters' scope."""

    discord: DiscordSurface
    slack: SlackSurface

    @property
    def llm(self) -> FakeLLM:
        return self.discord.llm

    async def route_guild(self) -> list[str]:
        """Route the guild's reviews to Slack's moderator channel and the second Discord channel.

        Returns the answers of the two ``link`` commands.
        """
        made = await discord_command(self.discord.fake, "jokelink", {}, SECOND_CHANNEL)
        seen = len(self.slack.fake.webhooks)
        body = command_body(
            f"link {link_code(made)}",
            user=SLACK_MOD,
            channel=SLACK_MOD_CHANNEL,
            trigger=new_trigger(),
            response_url=self.slack.fake.webhook_url(f"cmd-{SLACK_MOD}"),
        )
        status, text, _ = await self.slack.slack.post(body)
        assert status == 200, text
        assert len(self.slack.fake.webhooks) == seen  # answered in the ack itself
        on_slack = str(json.loads(text)["text"])
        again = await discord_command(self.discord.fake, "jokelink", {}, SECOND_CHANNEL)
        on_discord = await discord_command(
            self.discord.fake, "jokelink", {"code": link_code(again)}, SECOND_CHANNEL
        )
        return [on_slack, on_discord]

    def review_surfaces(self) -> tuple[Surface, ...]:
        """Where the guild's cards go once routed: its own channel, Slack, the second channel."""
        return (
            Surface("discord", str(MOD_CHANNEL)),
            Surface("slack", SLACK_MOD_CHANNEL),
            Surface("discord", str(SECOND_CHANNEL)),
        )

    def cards(self) -> dict[str, list[Card]]:
        """Every review surface's cards: ``discord``, ``slack`` and ``discord-2``."""
        return {
            "discord": self.discord.cards(),
            "slack": self.slack.cards(),
            "discord-2": discord_cards(self.discord.fake, SECOND_CHANNEL),
        }

    def every_card(self) -> Iterator[tuple[str, Card]]:
        """(surface, card) for every card on every surface."""
        for where, cards in self.cards().items():
            for card in cards:
                yield where, card

    async def drain(self) -> None:
        """All due work done, and both adapters' background work finished."""
        await self.discord.stack.drain()
        await settle()

    async def restart(self) -> None:
        """Stop both adapters and the core, keep the database and the fakes, boot again."""
        stack = self.discord.stack
        await self.slack.stop()
        await self.discord.stop()
        await stack.stop()
        await stack.start()
        await stack.runtime.recover()  # as bot.app.open_core does, before any adapter
        await self.discord.start()
        await self.slack.start()


@asynccontextmanager
async def two_platforms(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLLM
) -> AsyncIterator[TwoPlatforms]:
    """Both fakes, both real adapters, one core; the guild configured, nothing routed yet.

    Slack and the core share one clock (message ts, trigger expiry); Discord keeps its own.
    """
    add_second_channel(monkeypatch)
    clock = FakeClock()
    group = {MOD_GROUP: [USERS[Person.SECOND_MODERATOR]]}  # as open_slack
    async with (
        serve_fake() as fake_discord,
        FakeSlack(usergroups=group, clock=clock) as fake_slack,
        joke_stack(tmp_path, llm=llm, clock=clock, serve=False) as stack,
    ):
        fake_discord.patch(monkeypatch)
        discord = DiscordSurface(fake_discord, stack, llm)
        slack = SlackSurface(fake_slack, stack, llm)
        await discord.start()
        await slack.start()
        try:
            await discord.set_up_guild()
            yield TwoPlatforms(discord, slack)
        finally:
            await slack.stop()
            await discord.stop()


__all__ = [
    "GUILD_ID",
    "SECOND_CHANNEL",
    "TwoPlatforms",
    "add_second_channel",
    "discord_cards",
    "discord_command",
    "link_code",
    "two_platforms",
]
