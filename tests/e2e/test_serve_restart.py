"""``kill -9`` of ``jokebot serve`` mid-draft: the restarted process resumes the draft at once.

Its runner id is stable across restarts on one SQLite file (``bot/store/runner.py``), so the
run lease the killed process held is its own: no waiting 30 s for it to run out.
"""

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import aiohttp
import pytest

from bot.clock import SystemClock
from tests.e2e.test_cross_platform_kill import CHANNELS, command, discord_cards, until
from tests.support.fake_discord import ADMIN, ALICE, MOD_CHANNEL, jokeconfig, serve_fake, slash
from tests.support.fake_slack import FakeSlack
from tests.support.llm_server import FakeOpenAIServer, completion
from tests.support.serve_child import ServeChild
from tests.support.surfaces import JOKES

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_slack_env")]
LEASE_S = 30.0  # the runtime's run lease


async def test_a_restarted_serve_resumes_an_interrupted_draft_at_once(tmp_path: Path) -> None:
    with FakeOpenAIServer() as model:
        # The first completion never answers in time: the kill lands while it is in flight.
        model.script(replace(completion(JOKES[0]), delay=120), completion(JOKES[0]))
        async with (
            serve_fake() as discord,
            FakeSlack(CHANNELS, clock=SystemClock()) as slack,
            aiohttp.ClientSession(),
        ):
            bot = ServeChild(
                tmp_path / "serve.db",
                discord_port=discord.port,
                slack=slack,
                llm_base_url=model.base_url,
            )
            bot.connected = lambda: discord.clients == 1
            try:
                await bot.start()
                assert (await command(discord, jokeconfig(user=ADMIN))).startswith("Done.")
                await command(discord, slash("joke", {"topic": "cats"}, user=ALICE))
                await until(lambda: len(model.chat_requests()) == 1, "the draft asks the model")

                await bot.kill()
                killed = time.monotonic()
                await asyncio.sleep(0.5)  # let the fake Discord notice the dead connection
                await bot.start()
                await until(lambda: discord_cards(discord, MOD_CHANNEL), "the card", LEASE_S)
                resumed = time.monotonic() - killed
            finally:
                await bot.kill()

    assert bot.tracebacks() == []
    assert len(model.chat_requests()) == 2  # the draft was asked again, once
    assert resumed < LEASE_S / 2, f"the card came {resumed:.1f} s after the kill"
