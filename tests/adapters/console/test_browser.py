"""The console in a real browser (Chromium): sign in with the login link, a new review announced
live, approve with the keyboard, the Discord card edited; screenshots of each page in docs/."""

import asyncio
from collections.abc import Callable
from pathlib import Path

from playwright.async_api import Page, expect

from bot.models import JokeRequest
from tests.support.browser import SHOTS, chromium
from tests.support.console import MOD, ORIGIN, ConsoleHarness, console_harness


async def until(check: Callable[[], bool], what: str, timeout_s: float = 10.0) -> None:
    """Wait (really) until ``check()`` holds: the browser and the bot run on their own."""
    for _ in range(int(timeout_s / 0.05)):
        if check():
            return
        await asyncio.sleep(0.05)
    raise AssertionError(f"timed out waiting for {what}")


async def request(web: ConsoleHarness, key: str, topic: str) -> str:
    result = await web.stack.service.request_joke(JokeRequest(key, ORIGIN, topic))
    assert result.run_id is not None
    await until(lambda: bool(web.discord.cards(result.run_id)), f"the card of {key}")
    return result.run_id


async def sign_in(page: Page, web: ConsoleHarness) -> None:
    await page.goto(web.console.login_url())
    await page.click("#sign-in")
    await expect(page.locator(".who")).to_contain_text("local admin")


async def test_browser_sign_in_see_a_new_review_live_and_approve_with_the_keyboard(
    tmp_path: Path,
) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    async with console_harness(tmp_path, serve=True) as web, chromium() as browser:
        page = await browser.new_page(viewport={"width": 1200, "height": 760})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(web.base + "/login")
        await page.screenshot(path=SHOTS / "login.png")
        await sign_in(page, web)
        older = await request(web, "discord:1", "cats")

        await page.reload()
        await expect(page.locator(".item")).to_have_count(1)
        newer = await request(web, "discord:2", "dogs")  # arrives while the page is open
        await expect(page.locator("#show-new")).to_have_text("1 new review: show")
        await expect(page.locator(".item")).to_have_count(1)  # nothing moved meanwhile
        await page.screenshot(path=SHOTS / "queue-announced.png")
        await page.click("#show-new")
        await expect(page.locator(".item").first).to_have_attribute("data-run", newer)
        await page.screenshot(path=SHOTS / "queue.png")

        await page.keyboard.press("j")
        await page.keyboard.press("a")
        await until(lambda: bool(web.discord.cards(newer)[0].edits), "the card edit")
        await expect(page.locator(f"[data-run='{newer}'] .outcome")).to_contain_text("local admin")
        await until(lambda: bool(web.discord.public_posts(newer)), "the public post")

        await page.goto(f"{web.base}/runs/{newer}")
        await page.screenshot(path=SHOTS / "run.png", full_page=True)
        code = await web.stack.service.link_code("discord", "guild1")
        await page.goto(web.base + "/queues")
        await page.fill("input[name=code]", code.code)
        await page.click("form[action='/queues/link'] button")
        await expect(page.locator(".flash")).to_contain_text("now reviewed")
        await page.screenshot(path=SHOTS / "queues.png")

        edits = web.discord.cards(newer)[0].edits
        posts = web.discord.public_posts(newer)
        untouched = web.discord.cards(older)[0].edits

    assert [(e["outcome"], e["actor"]) for e in edits] == [("approve", "local admin")]
    assert len(posts) == 1
    assert untouched == []
    assert errors == []


async def test_browser_sees_a_discord_click_without_reloading(tmp_path: Path) -> None:
    async with console_harness(tmp_path, serve=True) as web, chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, web)
        run_id = await request(web, "discord:1", "cats")
        await page.reload()
        await expect(page.locator(".item .decide")).to_have_count(1)

        token = web.token(run_id)
        await web.discord.click(web.stack.service.decide, token, "approve", MOD)

        await expect(page.locator(f"#r-{token} .outcome")).to_contain_text("approve by dana")
        await expect(page.locator(f"#r-{token} .decide")).to_have_count(0)


async def test_browser_keyboard_rejects_with_a_reason_and_edits(tmp_path: Path) -> None:
    async with console_harness(tmp_path, serve=True) as web, chromium() as browser:
        page = await browser.new_page()
        await sign_in(page, web)
        first = await request(web, "discord:1", "cats")
        web.clock.advance(1)  # the queue shows the newest first
        second = await request(web, "discord:2", "dogs")
        await page.reload()
        await expect(page.locator(".item")).to_have_count(2)

        await page.keyboard.press("j")  # the newest: dogs
        await page.keyboard.press("j")  # cats
        await expect(page.locator(".item.selected")).to_have_attribute("data-run", first)
        await page.keyboard.press("k")  # back up to dogs
        await expect(page.locator(".item.selected")).to_have_attribute("data-run", second)
        await page.keyboard.press("r")
        await page.keyboard.type("not about dogs")
        await page.keyboard.press("Enter")
        await until(lambda: bool(web.discord.cards(second)[0].edits), "the rejection")
        await expect(page.locator(f"[data-run='{second}'] .decide")).to_have_count(0)
        await page.keyboard.press("j")  # the next one: cats
        await page.keyboard.press("e")
        await page.keyboard.press("Control+A")
        await page.keyboard.type("Cats: the original keyboard warriors.")
        await page.keyboard.press("Control+Enter")
        await until(lambda: bool(web.discord.public_posts(first)), "the edited post")
        await page.keyboard.press("?")
        await expect(page.locator("#help")).to_be_visible()

        rejected = web.discord.cards(second)[0].edits
        published = [m.payload["text"] for m in web.discord.public_posts(first)]

    assert [(e["outcome"], e["reason"]) for e in rejected] == [("reject", "not about dogs")]
    assert published == ["Cats: the original keyboard warriors."]
