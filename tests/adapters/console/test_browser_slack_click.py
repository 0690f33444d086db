"""A click in Slack shows in an open console page: the real Bolt app (HTTP mode) on the Slack
fake and the console over one core, a real Chromium watching the queue.

The request is made on Slack (a signed slash command), so its card goes to Slack's moderator
channel; the moderator's click is a signed ``block_actions`` request to the Bolt app, exactly
as the Slack e2e tests send it. The page hears the decision over its event stream, without a
reload, and shows it once.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

from playwright.async_api import expect

from adapters.console import ConsoleConfig
from bot.app._console import Console, open_console, serving_console
from bot.joke import JokeOptions
from tests.adapters.console.test_browser import until
from tests.support.browser import chromium
from tests.support.clock import FakeClock
from tests.support.console import SECRET
from tests.support.fake_slack import FakeSlack
from tests.support.llm import FakeLLM
from tests.support.stack import joke_stack
from tests.support.surfaces import Person, SlackSurface
from tests.support.surfaces._slack import MOD_GROUP, USERS

JOKE = "Why do owls never tell secrets? Because they only give a hoot."


@dataclass
class SlackConsole:
    """The real Bolt app on the Slack fake and the console, over one running core."""

    slack: SlackSurface
    console: Console
    base: str


@asynccontextmanager
async def slack_console(tmp_path: Path) -> AsyncIterator[SlackConsole]:
    """FakeSlack, the core (its loops running: nobody drains for a browser), Bolt and the console.

    Slack and the core share one clock, as ``open_slack`` has it (message ts, trigger expiry).
    """
    clock, llm = FakeClock(), FakeLLM(JOKE)
    group = {MOD_GROUP: [USERS[Person.SECOND_MODERATOR]]}
    async with AsyncExitStack() as exits:
        fake = await exits.enter_async_context(FakeSlack(usergroups=group, clock=clock))
        stack = await exits.enter_async_context(
            joke_stack(
                tmp_path,
                llm=llm,
                clock=clock,
                serve=True,
                options=JokeOptions(cooldown_s=0.0, scope_max_active=0),
            )
        )
        surface = SlackSurface(fake, stack, llm)
        await surface.start()
        exits.push_async_callback(surface.stop)
        config = ConsoleConfig(secret=SECRET, keepalive_s=15.0)
        console = await exits.enter_async_context(open_console(stack.core, config))
        port = await exits.enter_async_context(serving_console(console, "127.0.0.1", 0))
        yield SlackConsole(surface, console, f"http://127.0.0.1:{port}")


async def test_browser_shows_a_click_made_in_slack_once_without_a_reload(tmp_path: Path) -> None:
    async with slack_console(tmp_path) as world, chromium() as browser:
        slack = world.slack
        page = await browser.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto(world.console.login_url())
        await page.click("#sign-in")
        await expect(page.locator(".who")).to_contain_text("local admin")

        answer = await slack.ask("owls")  # a signed /joke in Slack
        await until(lambda: bool(slack.cards()), "the card in Slack's moderator channel")
        [card] = slack.cards()
        await page.reload()  # the review is on the page before anyone clicks
        item = page.locator(".item.status-pending")
        await expect(item).to_have_count(1)
        await expect(item.locator(".badge.slack")).to_have_text("Slack")
        await expect(item.locator(".draft")).to_have_text(JOKE)
        token = await item.get_attribute("data-token")
        assert token is not None
        await page.evaluate("window.notReloaded = true")
        received = await page.evaluate("window.consoleEvents || 0")

        told = await slack.approve(card)  # a signed block_actions request to the Bolt app

        decided = page.locator(f"#r-{token}")
        await expect(decided.locator(".outcome")).to_contain_text("approve by umod via Slack")
        await expect(decided.locator(".decide")).to_have_count(0)
        await until(lambda: bool(slack.public_posts()), "the joke in Slack's public channel")
        await until(lambda: not slack.cards()[0].live, "the Slack card closed")
        await page.wait_for_function(f"(window.consoleEvents || 0) > {received}")
        still_open = await page.evaluate("window.notReloaded === true")
        items = await page.locator(".item").count()
        outcomes = await page.locator(f"#r-{token} .outcome").all_text_contents()
        posts = slack.public_posts()
        cards = slack.cards()

    assert "owls" in answer, answer
    assert told == "", told  # the card itself says it: no private answer in Slack
    assert still_open  # the same document: the stream updated it, no reload
    assert items == 1  # the decided review replaced the pending one in place: shown once
    assert [" ".join(o.split()) for o in outcomes] == ["decided: approve by umod via Slack"]
    assert len(posts) == 1, posts  # one public post
    assert JOKE in posts[0], posts
    assert len(cards) == 1
    assert not cards[0].live
    assert errors == []
