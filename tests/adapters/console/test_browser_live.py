"""The console in a real browser, end to end: sign in with Discord against the fake OAuth server,
decide, lose a race, follow clicks made on the platforms live, survive a cut event stream, and
refuse what a moderator may no longer do, a forged session and another site's form."""

import asyncio
import base64
import json
import time
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import unquote

from itsdangerous import TimestampSigner
from playwright.async_api import Browser, Page, Route, expect

from adapters.console import Identity, Role
from adapters.console._app import COOKIE
from adapters.console._roles import MANAGE_MESSAGES
from adapters.console._signin_config import DiscordSignIn, SignInConfig
from bot.models import Actor, JokeRequest, Origin
from bot.ports import ChatMessage, OnDelta
from tests.adapters.console.test_browser import request, until
from tests.support.browser import SHOTS, chromium
from tests.support.console import ConsoleHarness, console_harness
from tests.support.fake_oauth import DiscordAccount, FakeDiscordOAuth, serving
from tests.support.llm import FakeLLM, words
from tests.support.platform import FakePlatform

HELPER_ROLE = "32"  # a Discord role with Manage Messages: a moderator
SLACK_MOD = Actor("slack", "UMOD", "umod", is_moderator=True)
SLACK_ORIGIN = Origin("slack", "T1", Actor("slack", "U1", "sam"), "CMODS", "CJOKES", "general")


TRY_JOKE = "Why do cats never play poker in the jungle? Too many cheetahs."


class HalfwayLLM(FakeLLM):
    """A streaming model that writes the first words of its joke, then waits for ``go``."""

    def __init__(self, text: str) -> None:
        super().__init__(text)
        self.text, self.go = text, asyncio.Event()

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.8,
        max_tokens: int = 80,
        seed: int | None = None,
        on_delta: OnDelta | None = None,
    ) -> str:
        for n, piece in enumerate(words(self.text)):
            if n == 4:
                await self.go.wait()
            if on_delta is not None:
                on_delta(piece)
        return self.text


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


async def signed_in_page(
    browser: Browser, web: ConsoleHarness, who: Identity | None = None
) -> Page:
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
        await page.screenshot(path=SHOTS / "login-providers.png")
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


async def test_browser_two_moderators_race_one_wins_the_other_is_told_who_and_where(
    tmp_path: Path,
) -> None:
    async with console_harness(tmp_path, serve=True) as web, chromium() as browser:
        run_id = await request(web, "discord:1", "cats")
        ann = await signed_in_page(browser, web)
        bob = await signed_in_page(browser, web, Identity("console", "bob", "bob", Role.MODERATOR))
        for page in (ann, bob):  # neither hears of the other's click before its own lands
            await hold_events(page)
            await page.goto(web.base + "/")
            await expect(page.locator(".item .decide")).to_have_count(1)

        await asyncio.gather(
            ann.click("button.approve"), bob.click("button.reject")
        )  # both at once
        for page in (ann, bob):
            await expect(page.locator("#live")).not_to_be_empty()
        answers = [await p.locator("#live").text_content() or "" for p in (ann, bob)]
        edits = web.discord.cards(run_id)[0].edits

    assert len(edits) == 1, edits
    winner = "local admin" if edits[0]["outcome"] == "approve" else "bob"
    lost = answers[1] if winner == "local admin" else answers[0]
    assert edits[0]["actor"] == winner
    # both on the web console: who, and when (a loser elsewhere also hears "via the web console")
    done = {"approve": "approved", "reject": "rejected"}[edits[0]["outcome"]]
    # "Already approved by …", or "This review is closed: approved by …" once it has moved on
    assert f"{done} by {winner} at " in lost, answers
    assert (answers[0] if winner == "local admin" else answers[1]) in ("Approved.", "Rejected.")


async def test_browser_page_follows_a_click_in_slack(tmp_path: Path) -> None:
    async with console_harness(tmp_path, serve=True) as web, chromium() as browser:
        slack = FakePlatform(web.clock)
        web.stack.register("slack", slack)
        page = await signed_in_page(browser, web)
        result = await web.stack.service.request_joke(JokeRequest("slack:1", SLACK_ORIGIN, "owls"))
        assert result.run_id is not None
        run_id = result.run_id
        await until(lambda: bool(slack.cards(run_id)), "the Slack card")
        await page.reload()
        token = slack.latest_token(run_id)
        assert token is not None
        await expect(page.locator(f"#r-{token} .decide")).to_have_count(1)

        await slack.click(web.stack.service.decide, token, "approve", SLACK_MOD)

        await expect(page.locator(f"#r-{token} .outcome")).to_contain_text("approve by umod")
        await expect(page.locator(f"#r-{token} .decide")).to_have_count(0)


async def test_browser_event_stream_cut_mid_burst_ends_with_exactly_the_audits_events(
    tmp_path: Path,
) -> None:
    async with console_harness(tmp_path, serve=True) as web, chromium() as browser:
        page = await signed_in_page(browser, web)
        start = int(await page.locator("body").get_attribute("data-seq") or "0")
        keys = [f"discord:{n}" for n in range(1, 9)]
        for key in keys[:3]:
            await request(web, key, "cats")
        await expect(page.locator("#show-new")).to_have_text("3 new reviews: show")

        await expect(page.locator("body")).to_have_attribute(
            "data-last-seq", str((await web.console.feed.events_since(start, 10_000))[-1].seq)
        )
        asked: list[str] = []  # every reconnection (Chromium adds Last-Event-ID below routing)

        async def cut_off(route: Route) -> None:
            asked.append("refused")
            await route.abort("connectionreset")

        async def back_online(route: Route) -> None:
            asked.append("through")
            await route.continue_()

        await page.route("**/events?*", cut_off)  # the network drops…
        web.console.feed.end_followers()  # …and the server's end of the stream closes
        for key in keys[3:6]:
            await request(web, key, "dogs")  # the burst goes on while the page is cut off
        await until(lambda: bool(asked), "a reconnection refused", timeout_s=20)
        await page.unroute("**/events?*")
        await page.route("**/events?*", back_online)  # EventSource retries with Last-Event-ID
        for key in keys[6:]:
            await request(web, key, "fish")
        await web.stack.drain()
        audit = [row.seq for row in await web.console.feed.events_since(start, 10_000)]
        await expect(page.locator("body")).to_have_attribute("data-last-seq", str(audit[-1]))
        await expect(page.locator("#show-new")).to_have_text("8 new reviews: show")
        await page.click("#show-new")
        shown = await page.locator(".item").evaluate_all("els => els.map(e => e.dataset.run)")
        seen = await page.evaluate("window.consoleEvents")
        received = await page.evaluate("window.consoleReceived")

    # the server sent every row once: none missing, none doubled
    assert received == seen == len(audit)
    # the replay started at the page's Last-Event-ID: from ?after= it would have doubled rows
    assert asked[0] == "refused", asked
    assert asked[-1] == "through", asked
    assert len(shown) == len(set(shown)) == 8


async def test_browser_refuses_a_forged_session_and_another_sites_form(tmp_path: Path) -> None:
    async with console_harness(tmp_path, serve=True) as web, chromium() as browser:
        run_id = await request(web, "discord:1", "cats")
        token = web.token(run_id)
        page = await signed_in_page(browser, web)
        status = await page.evaluate(
            """async (url) => (await fetch(url, {method: "POST", credentials: "same-origin",
                 headers: {Accept: "application/json"},
                 body: new URLSearchParams({action: "approve", click: "c1"})})).status""",
            f"/reviews/{token}/decide",
        )  # the signed-in browser itself, without the session's CSRF token

        # Another site's page posting the decision form to the console
        evil = await (await browser.new_context()).new_page()
        session = next(c for c in await page.context.cookies() if c["name"] == COOKIE)
        await evil.context.add_cookies(  # the same person's browser, as the console set it
            [{"name": COOKIE, "value": session["value"], "url": web.base, "sameSite": "Lax"}]
        )
        form = (
            f'<form id="f" method="post" action="{web.base}/reviews/{token}/decide">'
            '<input name="action" value="approve"><input name="click" value="c2"></form>'
            "<script>document.getElementById('f').submit()</script>"
        )

        async def attacker(route: Route) -> None:
            await route.fulfill(body=form, content_type="text/html")

        await evil.route("http://evil.test/**", attacker)
        async with evil.expect_response(f"{web.base}/reviews/{token}/decide") as posted:
            await evil.goto("http://evil.test/")
        cross_site = (await posted.value).status

        # A session cookie signed with another key: a stranger, sent to sign in
        forged = await (await browser.new_context()).new_page()
        payload = base64.b64encode(
            json.dumps(
                {
                    "who": {
                        "platform": "console",
                        "user_id": "admin",
                        "display": "local admin",
                        "role": "admin",
                    },
                    "csrf": "x",
                }
            ).encode()
        )
        value = TimestampSigner("not-the-console-secret").sign(payload).decode()
        await forged.context.add_cookies([{"name": COOKIE, "value": value, "url": web.base}])
        await forged.goto(web.base + "/")
        forged_lands = forged.url
        await expect(forged.locator("#sign-in-discord, .card h1").first).to_have_text("Sign in")

        await web.stack.drain()
        edits = web.discord.cards(run_id)[0].edits

    assert status == 403
    assert cross_site in (401, 403)
    assert forged_lands == web.base + "/login"
    assert edits == []


async def test_browser_try_it_shows_the_draft_word_by_word_then_the_run_in_the_queue(
    tmp_path: Path,
) -> None:
    llm = HalfwayLLM(TRY_JOKE)
    async with console_harness(tmp_path, llm=llm, serve=True) as web, chromium() as browser:
        page = await signed_in_page(browser, web)
        await page.set_viewport_size({"width": 1200, "height": 760})
        await page.click("nav a[href='/try']")  # no longer greyed out
        await page.fill("#try-topic", "cats")
        await page.click("#try-go")
        draft = page.locator("#try-draft")
        await expect(draft).not_to_be_empty()  # the model is still writing
        halfway = await draft.text_content() or ""
        await page.screenshot(path=SHOTS / "try.png")
        llm.go.set()
        await expect(page.locator("#try-queued")).to_be_visible()
        await expect(draft).to_have_text(TRY_JOKE)
        await page.screenshot(path=SHOTS / "try-queued.png")
        run_id = unquote(
            (await page.locator("#try-run").get_attribute("href") or "").split("/")[-1]
        )

        await page.goto(web.base + "/")
        item = page.locator(f"[data-run='{run_id}']")
        await expect(item.locator(".draft")).to_have_text(TRY_JOKE)
        await item.locator("button.approve").click()  # a moderator decides it there
        await expect(item.locator(".outcome")).to_contain_text("approve by local admin")

    assert halfway
    assert TRY_JOKE.startswith(halfway)
    assert len(halfway) < len(TRY_JOKE)
