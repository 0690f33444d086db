"""History and stats in a real browser (Chromium): the pages render, the charts show without
any script error, the history pages on; screenshots for docs/console.md."""

from pathlib import Path

from playwright.async_api import expect

from tests.support.browser import SHOTS, chromium
from tests.support.console import console_harness
from tests.support.console_script import DRAFT_TIMES, REPLIES, TimedLLM, scripted_run


async def test_browser_shows_history_and_stats(tmp_path: Path) -> None:
    SHOTS.mkdir(parents=True, exist_ok=True)
    llm = TimedLLM(DRAFT_TIMES, *REPLIES)
    async with console_harness(tmp_path, llm=llm) as web, chromium() as browser:
        llm.clock = web.clock
        await scripted_run(web)
        page = await browser.new_page(viewport={"width": 1200, "height": 800})
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(web.console.login_url())
        await page.click("#sign-in")

        await page.goto(web.base + "/history")
        await expect(page.locator("tr.run")).to_have_count(3)
        await expect(page.locator(".exports")).to_contain_text("CSV")
        await page.screenshot(path=SHOTS / "history.png", full_page=True)
        await page.select_option("select[name=outcome]", "published")
        await page.click("form.filters button")
        await expect(page.locator("tr.run")).to_have_count(2)

        await page.goto(web.base + "/stats")
        await expect(page.locator("svg.chart")).to_have_count(6)
        await expect(page.locator("#f-requests")).to_have_text("3")
        box = await page.locator("#c-results svg").bounding_box()
        await page.screenshot(path=SHOTS / "stats.png", full_page=True)

    assert box is not None
    assert box["width"] > 300  # drawn at size, not collapsed
    assert errors == []
