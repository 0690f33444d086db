"""The console next to the real Discord client on FakeDiscord: a request typed in Discord,
approved in the browser; the Discord card edited, one public post, the loser told where."""

from pathlib import Path

import aiohttp
import pytest

from adapters._review import parse_button_id
from tests.support.console import Browser, served_console, sign_in
from tests.support.fake_discord import button_ids
from tests.support.llm import FakeLLM
from tests.support.surfaces._discord import open_discord

DRAFT = "Why did the cat join the band? It had the purrfect pitch."


async def test_console_approval_edits_the_card_on_discord_and_discord_is_told_later(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with (
        open_discord(tmp_path, monkeypatch, FakeLLM(DRAFT)) as discord,
        served_console(discord.stack.core) as (console, base),
        aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http,
    ):
        browser = Browser(http, base)
        await sign_in(browser, console)
        await discord.ask("cats")
        await discord.drain()
        [card] = discord.cards()
        parsed = parse_button_id(button_ids(card.seen)[0])
        assert parsed is not None
        token = parsed[0]

        status, answer = await browser.decide(token, "approve")
        await discord.drain()
        late = await discord.approve(card)  # a Discord moderator on the old card
        [edited] = discord.cards()

    assert (status, answer["status"]) == (200, "applied")
    assert not edited.live
    assert "Approved by local admin via the web console" in edited.status
    assert discord.public_posts() == [DRAFT]
    assert "local admin via the web console" in late
