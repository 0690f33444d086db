"""A decided review on the queue says where it was decided: "approve by dana via Discord"."""

import re

from tests.support.console import MOD, ConsoleHarness


def outcome_of(html: str) -> str:
    """The text of the one ``.outcome`` in a queue item fragment, on one line."""
    found = re.search(r'<div class="outcome">(.*?)</div>', html, re.S)
    assert found is not None, html
    return " ".join(found.group(1).split())


async def test_queue_item_names_the_platform_a_review_was_decided_on(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    on_discord = web.token(await web.ask("discord:1", "cats"))
    on_console = web.token(await web.ask("discord:2", "dogs"))
    pending_html = (await browser.page(f"/queue/items/{on_console}"))[1]

    await web.discord.click(web.stack.service.decide, on_discord, "approve", MOD)
    await browser.page("/")  # a fresh CSRF token
    status, _ = await browser.decide(on_console, "reject", reason="old")
    await web.stack.drain()

    _, discord_html = await browser.page(f"/queue/items/{on_discord}")
    _, console_html = await browser.page(f"/queue/items/{on_console}")
    assert status == 200
    assert outcome_of(pending_html) == ""  # nobody yet, nowhere
    assert outcome_of(discord_html) == "decided: approve by dana via Discord"
    assert outcome_of(console_html) == "decided: reject by local admin via the web console"
