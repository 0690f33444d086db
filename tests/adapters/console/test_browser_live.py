"""The console in a real browser, end to end: sign in with Discord against the fake OAuth server,
decide, lose a race, follow clicks made on the platforms live, survive a cut event stream, and
refuse what a moderator may no longer do, a forged session and another site's form."""

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from itsdangerous import TimestampSigner
from playwright.async_api import Browser, Page, Route, expect

from adapters.console import Identity, Role
from adapters.console._roles import MANAGE_MESSAGES
from adapters.console._signin_config import DiscordSignIn, SignInConfig
from bot.models import Actor, JokeRequest, Origin
from tests.adapters.console.test_browser import SHOTS, request, sign_in, until
from tests.support.browser import chromium
from tests.support.console import ConsoleHarness, console_harness
from tests.support.fake_oauth import DiscordAccount, FakeDiscordOAuth, serving
from tests.support.platform import FakePlatform

HELPER_ROLE = "32"  # a Discord role with Manage Messages: a moderator
SLACK_MOD = Actor("slack", "UMOD", "umod", is_moderator=True)
SLACK_ORIGIN = Origin("slack", "T1", Actor("slack", "U1", "sam"), "CMODS", "CJOKES", "general")


@asynccontextmanager
async def discord_console(tmp_path: Path) -> AsyncIterator[tuple[ConsoleHarness, FakeDiscordOAuth]]:
    """A served console whose Discord sign-in is the fake OAuth server (mia: a moderator)."""
    oauth = FakeDiscordOAuth(time.monotonic)  # codes expire in real time: the browser's
    async with serving(oauth):
        signin = SignInConfig(
            public_url="",
            discord=DiscordSignIn(
                oauth.client_id,
                oauth.client_secret,
                oauth.guild_id,
                api_base=oauth.api_base,
                bot_token=oauth.bot_token,
            ),
        )
        async with console_harness(tmp_path, serve=True, signin=signin) as web:
            oauth.role_permissions[HELPER_ROLE] = MANAGE_MESSAGES
            oauth.add(DiscordAccount("510", "mia", global_name="Mia", roles=[HELPER_ROLE]))
            oauth.signed_in = "510"
            oauth.redirect_uris.add(f"{web.base}/login/discord/callback")
            yield web, oauth


async def signed_in_page(browser: Browser, web: ConsoleHarness, who: Identity | None = None) -> Page:
    """A fresh browser context signed in with a login link (as ``who``, else the local admin)."""
    page = await (await browser.new_context()).new_page()
    await page.goto(f"{web.base}/login/{web.console.links.issue(*(who,) if who else ())}")
    await page.click("#sign-in")
    await expect(page.locator(".who")).to_contain_text(who.display if who else "local admin")
    return page


async def hold_events(page: Page) -> None:
    """The page's event stream cannot connect (a browser behind a stalled network)."""

    async def refuse(route: Route) -> None:
        await route.abort("connectionreset")

    await page.route("**/events?*", refuse)


async def test_browser_signs_in_with_discord_approves_and_is_refused_once_the_role_is_gone(
    tmp_path: Path,
) -> None:
    async with discord_console(tmp_path) as (web, oauth), chromium() as browser:
        page = await browser.new_page(viewport={"width": 1200, "height": 760})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(web.base + "/")  # a stranger is sent to sign in
        await expect(page.locator("#sign-in-discord")).to_have_text("Sign in with Discord")
        await page.screenshot(path=SHOTS / "login.png")
        await page.click("#sign-in-discord")  # to the fake Discord and back
        await expect(page.locator(".who")).to_contain_text("Mia · moderator")
        first = await request(web, "discord:1", "cats")
        web.clock.advance(1)
        second = await request(web, "discord:2", "dogs")
        await page.reload()
        await expect(page.locator(".item .decide")).to_have_count(2)

        await page.click(f"[data-run='{first}'] button.approve")
        await expect(page.locator(f"[data-run='{first}'] .outcome")).to_contain_text("by Mia")
        await until(lambda: bool(web.discord.public_posts(first)), "the public post")

        oauth.accounts["510"].roles = []  # Mia loses the role on Discord, still signed in
        web.clock.advance(11)  # past the re-check's 10 s cache
        await page.click(f"[data-run='{second}'] button.approve")
        await expect(page.locator("#live")).to_contain_text("Only moderators can decide")
        await expect(page.locator(f"[data-run='{second}'] .decide")).to_have_count(1)

        edits = [(e["outcome"], e["actor"]) for e in web.discord.cards(first)[0].edits]
        posts = len(web.discord.public_posts(first))
        refused = web.discord.cards(second)[0].edits

    assert edits == [("approve", "Mia")]
    assert posts == 1
    assert refused == []
    assert errors == []
