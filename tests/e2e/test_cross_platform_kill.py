"""``kill -9`` of a real ``jokebot serve`` between every step of a cross-platform review.

The child is ``python -m bot serve`` with Discord and Slack (HTTP mode) both up, on one SQLite
file; the test process runs the fake Discord, the fake Slack and the model, and plays the
people. An admin configures the guild and routes its reviews to Slack's moderator channel and
a second Discord channel; Alice asks in Discord; a Slack moderator approves. The process is
SIGKILLed and booted again after each of those steps. In the end: one public post in the
Discord channel, every card edited (approved via Slack), Alice told on Discord, nothing posted
on Slack's public channel, no traceback in any process.

Two things a kill shows here, both by design today: ``serve``'s runner id is
``host:pid``, so a draft cut short by the kill resumes only once its lease (30 s) has expired;
and Slack's click is acknowledged before the decision commits, so a kill in between loses the
click (the card keeps its buttons) and the moderator clicks again (counted in the log line).
"""

import asyncio
import contextlib
import copy
import json
import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.slack_adapter._render import DRAFT_BLOCK
from bot.clock import SystemClock
from bot.joke import prompts
from tests.support.cross_platform import SECOND_CHANNEL, add_second_channel, link_code
from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    APP_ID,
    BOT_ID,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    FakeDiscord,
    button_ids,
    jokeconfig,
    serve_fake,
    slash,
)
from tests.support.fake_slack import FakeSlack
from tests.support.llm_server import FakeOpenAIServer, completion
from tests.support.serve_child import ServeChild, SlackClient
from tests.support.slack_harness import snapshot
from tests.support.surfaces import JOKES
from tests.support.surfaces._discord import CARD_TITLE

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_slack_env")]
JOKE = JOKES[0]
log = logging.getLogger(__name__)
SLACK_MOD = "UMOD"
CHANNELS = {"CMOD": "mods", "CPUB": "jokes", "CGEN": "general"}


async def until(condition: Callable[[], object], what: str, seconds: float = 120.0) -> None:
    """Poll ``condition`` (real time: the bot is another process) until it holds."""
    loop = asyncio.get_running_loop()
    give_up = loop.time() + seconds
    while not condition():
        if loop.time() > give_up:
            raise AssertionError(f"never: {what}")
        await asyncio.sleep(0.05)


async def command(fake: FakeDiscord, payload: dict[str, Any]) -> str:
    """Dispatch a slash command; the text the user was answered with (message or followup)."""
    since = len(fake.calls)
    iid = await fake.interact(payload)
    answer = await fake.wait_for_path("POST", rf"/interactions/{iid}/[^/]+/callback", timeout=20)
    if answer.body["type"] == 4:
        return str(answer.body["data"]["content"])
    hook = rf"/webhooks/{APP_ID}/{payload['token']}"
    followup = await fake.wait_for_path("POST", hook, since=since, timeout=20)
    return str(followup.body["content"])


def discord_cards(fake: FakeDiscord, channel: int) -> list[dict[str, Any]]:
    return [
        m
        for m in fake.messages(channel)
        if m["author"]["id"] == str(BOT_ID)
        and m["embeds"]
        and m["embeds"][0].get("title") == CARD_TITLE
    ]


def slack_cards(fake: FakeSlack) -> list[dict[str, Any]]:
    return [
        snapshot(m)
        for m in fake.messages("CMOD")
        if m.by_bot and any(b.get("block_id") == DRAFT_BLOCK for b in m.blocks)
    ]


def all_cards(discord: FakeDiscord, slack: FakeSlack) -> dict[str, list[dict[str, Any]]]:
    return {
        "discord": discord_cards(discord, MOD_CHANNEL),
        "discord-2": discord_cards(discord, SECOND_CHANNEL),
        "slack": slack_cards(slack),
    }


def live(where: str, card: dict[str, Any]) -> bool:
    if where == "slack":
        return any(b["type"] == "actions" for b in card["blocks"])
    return bool(button_ids(card))


def status(where: str, card: dict[str, Any]) -> str:
    if where == "slack":
        return str(card["blocks"][-1]["elements"][0]["text"])
    return str(card["content"])


async def test_kill_9_between_every_step_of_a_cross_platform_review(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    add_second_channel(monkeypatch)
    with FakeOpenAIServer() as model:
        model.script(*[completion(JOKE)] * 5)  # a draft cut short by a kill is asked again
        async with (
            serve_fake() as discord,
            FakeSlack(CHANNELS, clock=SystemClock()) as slack,
            aiohttp.ClientSession() as http,
        ):
            bot = ServeChild(
                tmp_path / "serve.db",
                discord_port=discord.port,
                slack=slack,
                llm_base_url=model.base_url,
            )
            bot.connected = lambda: discord.clients == 1
            users = SlackClient(slack, bot.slack_port, http)
            try:
                await bot.start()
                said = await command(discord, jokeconfig(user=ADMIN))
                assert said.startswith("Done."), said
                made = await command(discord, slash("jokelink", {}, user=ADMIN))
                code = link_code(made)
                _, text = await users.command(f"link {code}", user=SLACK_MOD, channel="CMOD")
                assert "now reviewed in this channel" in json.loads(text)["text"], text
                again = link_code(await command(discord, slash("jokelink", {}, user=ADMIN)))
                linked = await command(
                    discord,
                    slash("jokelink", {"code": again}, user=ADMIN, channel_id=SECOND_CHANNEL),
                )
                assert "now reviewed in this channel" in linked, linked
                await bot.restart()

                told = await command(discord, slash("joke", {"topic": "cats"}, user=ALICE))
                await bot.restart()  # 1: the request is saved (the draft may be anywhere)

                await until(
                    lambda: all(len(c) == 1 for c in all_cards(discord, slack).values()),
                    "a card on every review surface",
                )
                pending = copy.deepcopy(all_cards(discord, slack))
                await bot.restart()  # 2: the cards are out

                [card] = pending["slack"]
                clicked, _ = await users.click(card, "approve", user=SLACK_MOD)
                await bot.restart()  # 3: the click was acknowledged (maybe not yet decided)

                # Slack is acked before the decision commits: a kill in between loses the
                # click and the card keeps its buttons, so the moderator clicks again.
                reclicks = 0
                with contextlib.suppress(AssertionError):
                    await until(lambda: not live("slack", slack_cards(slack)[0]), "", 10)
                if live("slack", slack_cards(slack)[0]):
                    reclicks += 1
                    again_status, _ = await users.click(card, "approve", user=SLACK_MOD)
                    assert again_status == 200

                def finished() -> bool:
                    cards = all_cards(discord, slack)
                    dm = discord.state.dm_channels.get(ALICE)
                    return (
                        bool(discord.messages(PUBLIC_CHANNEL))
                        and all(not live(w, c) for w, cs in cards.items() for c in cs)
                        and dm is not None
                        and bool(discord.messages(dm))
                    )

                await until(finished, "published, every card decided, Alice told")
                await bot.restart()  # 4: a last boot finds nothing to redo
                await asyncio.sleep(1.0)
            finally:
                await bot.kill()

            public = [
                m for m in discord.messages(PUBLIC_CHANNEL) if m["author"]["id"] == str(BOT_ID)
            ]
            cards = all_cards(discord, slack)
            dm = discord.state.dm_channels[ALICE]
            notices = [str(m["embeds"][0]["description"]) for m in discord.messages(dm)]
            slack_public = slack.messages("CPUB")

    log.info("cross-platform kill -9: %s boots, %s re-click(s)", bot.boots, reclicks)
    assert bot.tracebacks() == []
    assert bot.boots == 6
    assert "cats" in told
    assert clicked == 200
    assert {w: [live(w, c) for c in cs] for w, cs in pending.items()} == {
        "discord": [True],
        "discord-2": [True],
        "slack": [True],
    }
    assert [m["embeds"][0]["description"] for m in public] == [JOKE]
    for where, [decided] in cards.items():
        assert "Approved by" in status(where, decided), (where, status(where, decided))
        assert "via Slack" in status(where, decided), (where, status(where, decided))
    assert notices == [prompts.PUBLISHED.format(topic="cats")]
    assert slack_public == []
    assert len(model.chat_requests()) >= 1
