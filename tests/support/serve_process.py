"""One ``jokebot serve`` process (the real wiring) on fake Discord and fake Slack, for tests.

:func:`serving` starts :func:`bot.app.run_serve` with Discord and Slack (Socket Mode) against
their fakes and an OpenAI-compatible fake, and waits until ``/health/ready`` is 200;
:class:`Serving` asks readiness over HTTP; ``joke_on_slack`` / ``joke_on_discord`` request a
joke and approve its card the way people do on each platform.
"""

import asyncio
import contextlib
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.app import run_serve
from bot.config import load_settings
from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    APP_ID,
    MOD,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    TOKEN,
    FakeDiscord,
    button_ids,
    click,
    jokeconfig,
    serve_fake,
    slash,
)
from tests.support.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack
from tests.support.llm_server import FakeOpenAIServer
from tests.support.slack_harness import MOD as SLACK_MOD, snapshot
from tests.support.slack_payloads import click_payload, command_fields, new_trigger

JOKE = "Why did the server reply? To pass the test!"  # FakeOpenAIServer's default completion


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Serving:
    """A running ``serve`` with both fakes and a way to ask its health server."""

    discord: FakeDiscord
    slack: FakeSlack
    http: aiohttp.ClientSession
    ready_url: str

    async def readiness(self) -> tuple[int, dict[str, Any]]:
        async with self.http.get(self.ready_url) as reply:
            body: dict[str, Any] = await reply.json()
            return reply.status, body

    async def until(self, status: int, not_ready: list[str], timeout: float) -> dict[str, Any]:
        """Poll ``/health/ready`` until it answers ``status`` naming exactly ``not_ready``."""
        async with asyncio.timeout(timeout):
            while True:
                with contextlib.suppress(aiohttp.ClientError):
                    got, body = await self.readiness()
                    if got == status and body["not_ready"] == not_ready:
                        return body
                await asyncio.sleep(0.05)


@asynccontextmanager
async def serving(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Serving]:
    """``run_serve`` with Discord and Slack (Socket Mode) on their fakes, until ready."""
    port = free_port()
    with FakeOpenAIServer() as llm:
        async with (
            serve_fake() as discord,
            FakeSlack() as slack,
            aiohttp.ClientSession() as http,
        ):
            discord.patch(monkeypatch)
            settings = load_settings(
                _env_file=None,
                discord_token=TOKEN,
                slack_bot_token=BOT_TOKEN,
                slack_app_token=APP_TOKEN,
                slack_api_base=slack.base_url,
                slack_mod_channel="CMOD",
                slack_public_channel="CPUB",
                slack_moderators=SLACK_MOD,
                openai_base_url=llm.base_url,
                database_url=f"sqlite:///{tmp_path / 'serve.db'}",
                health_port=port,
            )
            task = asyncio.create_task(run_serve(settings, say=lambda _: None))
            try:
                up = Serving(discord, slack, http, f"http://127.0.0.1:{port}/health/ready")
                await up.until(200, [], timeout=30)
                yield up
            finally:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task


def detail(body: dict[str, Any], check: str) -> str:
    return str(next(c["detail"] for c in body["checks"] if c["name"] == check))


async def joke_on_slack(slack: FakeSlack, topic: str) -> str:
    """``/joke`` over the socket, approve its card over the socket; the public post's text."""
    fields = command_fields(topic, trigger=new_trigger(), response_url=slack.webhook_url("cmd"))
    await slack.wait_ack(await slack.push_envelope("slash_commands", fields))
    cards = len([m for m in slack.messages("CMOD") if m.blocks])
    await slack.wait_until(lambda: len([m for m in slack.messages("CMOD") if m.blocks]) > cards, 20)
    card = snapshot(slack.messages("CMOD")[-1])
    approve = click_payload(
        card,
        "CMOD",
        "approve",
        user=SLACK_MOD,
        trigger=new_trigger(),
        response_url=slack.webhook_url("click"),
    )
    await slack.wait_ack(await slack.push_envelope("interactive", approve))
    await slack.wait_until(lambda: bool(slack.messages("CPUB")), 10)
    return slack.messages("CPUB")[-1].text


async def joke_on_discord(discord: FakeDiscord, topic: str) -> str:
    """``/joke`` over the gateway, approve its card; the public post's text."""
    since = len(discord.calls)
    await discord.interact(slash("joke", {"topic": topic}, user=ALICE))
    await discord.wait_for_path(
        "POST", rf"/channels/{MOD_CHANNEL}/messages", since=since, timeout=20
    )
    [card] = [m for m in discord.messages(MOD_CHANNEL) if button_ids(m)]
    [approve] = [i for i in button_ids(card) if i.endswith(":approve")]
    iid = await discord.interact(click(approve, card, user=MOD))
    await discord.wait_for_path("POST", rf"/interactions/{iid}/[^/]+/callback")
    await discord.wait_for_path("POST", rf"/channels/{PUBLIC_CHANNEL}/messages", timeout=10)
    return str(discord.messages(PUBLIC_CHANNEL)[-1]["embeds"][0]["description"])


async def configure_guild(discord: FakeDiscord) -> None:
    since = len(discord.calls)
    await discord.interact(jokeconfig(user=ADMIN))
    await discord.wait_for_path("POST", rf"/webhooks/{APP_ID}/[^/]+", since=since)
