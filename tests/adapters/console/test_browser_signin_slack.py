"""Sign in with Slack (OpenID Connect) in a real browser, against the fake Slack OIDC provider.

The login page's "Sign in with Slack" button goes to the fake's authorize page, which sends the
browser back to the console's callback with a code; the console redeems it, verifies the ID
token and signs the person in with the role Slack gives them. Someone signed in to another
workspace is refused, and the page says why.
"""

import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from playwright.async_api import expect

from adapters.console._signin_config import SignInConfig, SlackSignIn
from tests.support.browser import chromium
from tests.support.console import ConsoleHarness, console_harness
from tests.support.fake_oauth import FakeSlackOIDC, SlackAccount, serving


@asynccontextmanager
async def slack_console(tmp_path: Path) -> AsyncIterator[tuple[ConsoleHarness, FakeSlackOIDC]]:
    """A served console whose only sign-in is Slack's, the fake provider (UMOD: a moderator)."""
    oidc = FakeSlackOIDC(time.monotonic)  # codes expire in real time: the browser's
    async with serving(oidc):
        signin = SignInConfig(
            public_url="",
            slack=SlackSignIn(
                oidc.client_id,
                oidc.client_secret,
                oidc.team_id,
                issuer=oidc.issuer,
                api_base=oidc.api_base,
                bot_token=oidc.bot_token,
                moderators=("UMOD",),
            ),
        )
        async with console_harness(tmp_path, serve=True, signin=signin) as web:
            oidc.redirect_uris.add(f"{web.base}/login/slack/callback")
            yield web, oidc


async def test_browser_signs_in_with_slack_as_a_moderator_and_can_decide(tmp_path: Path) -> None:
    async with slack_console(tmp_path) as (web, oidc), chromium() as browser:
        oidc.add(SlackAccount("UMOD", "Sam", oidc.team_id))
        oidc.signed_in = "UMOD"
        run_id = await web.ask("discord:1", "cats")
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(web.base + "/")  # a stranger is sent to sign in
        await expect(page.locator("#sign-in-slack")).to_have_text("Sign in with Slack")
        await expect(page.locator("#sign-in-discord")).to_have_count(0)  # not configured

        await page.click("#sign-in-slack")  # to the fake Slack and back

        await expect(page.locator(".who")).to_contain_text("Sam · moderator")
        await expect(page.locator(f"[data-run='{run_id}'] button.approve")).to_have_count(1)
        url = page.url
        oidc_calls = list(oidc.calls)

    assert url == web.base + "/", url
    assert "users.info" in oidc_calls  # the role came from Slack, not from the ID token alone
    assert errors == []


async def test_browser_refuses_a_slack_user_of_another_workspace_and_says_why(
    tmp_path: Path,
) -> None:
    async with slack_console(tmp_path) as (web, oidc), chromium() as browser:
        oidc.add(SlackAccount("UMOD", "Sam", "T0OTHER"))  # a moderator's id, but elsewhere
        oidc.signed_in = "UMOD"
        page = await browser.new_page()
        await page.goto(web.base + "/login")

        await page.click("#sign-in-slack")

        await expect(page.locator("#refused")).to_contain_text("another Slack workspace")
        refused_at = page.url
        await expect(page.locator(".who")).not_to_contain_text("Sam")  # nobody signed in
        await page.goto(web.base + "/")  # still nobody: sent to sign in again
        await expect(page.locator("#sign-in-slack")).to_be_visible()
        await expect(page.locator(".who form")).to_have_count(0)  # no "Sign out"
        tried = list(oidc.calls)

    assert refused_at.startswith(web.base + "/login/slack/callback?"), refused_at
    assert tried == []  # refused on the ID token's team: Slack's API was never asked the role
