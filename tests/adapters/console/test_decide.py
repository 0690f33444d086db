"""Decisions from the browser go through the one ``decide``: cards edited on Discord through the
outbox, first click wins across surfaces, and every refusal is a refusal."""

from pathlib import Path

from adapters.console import ConsoleConfig, Identity, Role
from bot.models import DecideStatus
from tests.support.console import MOD, SECRET, ConsoleHarness, console_harness


async def test_console_approve_edits_the_discord_card_and_publishes_once(
    web: ConsoleHarness,
) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")

    status, answer = await browser.decide(web.token(run_id), "approve")
    await web.stack.drain()
    again, repeat = await browser.decide(web.token(run_id), "approve")  # the same click resent

    card = web.discord.cards(run_id)[0]
    assert (status, answer["status"]) == (200, "applied")
    assert [(e["outcome"], e["actor"], e["via"]) for e in card.edits] == [
        ("approve", "local admin", "the web console")
    ]
    assert [m.payload["text"] for m in web.discord.public_posts(run_id)] == [
        card.payload["card"]["draft"]
    ]
    assert [m.payload["text"] for m in web.discord.notices(run_id)] == [
        "Your joke about cats was approved and posted."
    ]
    assert (again, repeat["status"]) == (200, "duplicate")


async def test_console_loses_to_an_earlier_discord_click_and_says_who_and_where(
    web: ConsoleHarness,
) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")
    token = web.token(run_id)

    first = await web.discord.click(web.stack.service.decide, token, "approve", MOD)
    status, answer = await browser.decide(token, "reject", reason="meh")
    await web.stack.drain()

    assert first is not None
    assert first.status == DecideStatus.APPLIED
    assert (status, answer["status"]) == (409, "already_decided")
    assert answer["decided_by"] == "dana via Discord"
    assert len(web.discord.public_posts(run_id)) == 1


async def test_console_wins_and_a_later_discord_click_is_told_via_the_web_console(
    web: ConsoleHarness,
) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")
    token = web.token(run_id)

    status, _ = await browser.decide(token, "approve")
    late = await web.discord.click(web.stack.service.decide, token, "reject", MOD)
    await web.stack.drain()

    assert status == 200
    assert late is not None
    assert late.status == DecideStatus.ALREADY_DECIDED
    assert late.decided_by == "local admin via the web console"


async def test_console_viewer_may_look_but_not_decide(web: ConsoleHarness) -> None:
    viewer = await web.signed_in_as(Identity("console", "v1", "viv", Role.VIEWER))
    run_id = await web.ask("discord:1")

    _, queue = await viewer.page("/")
    status, answer = await viewer.decide(web.token(run_id), "approve")
    await web.stack.drain()

    assert web.discord.cards(run_id)[0].payload["card"]["draft"] in queue
    assert "✓ Approve" not in queue  # no buttons for a viewer
    assert (status, answer["status"]) == (403, "forbidden")
    assert web.discord.cards(run_id)[0].edits == []


async def test_console_refuses_stale_unknown_and_invalid_decisions(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")
    old = web.token(run_id)
    rejected = await browser.decide(old, "reject", "click-0001", reason="not funny")
    await web.stack.drain()
    assert rejected[1]["status"] == "applied", rejected
    assert web.token(run_id) != old

    stale = await browser.decide(old, "approve", "click-0002")
    forged = await browser.decide("f" * 32, "approve", "click-0003")
    timeout = await browser.decide(web.token(run_id), "timeout", "click-0004")
    no_text = await browser.decide(web.token(run_id), "edit", "click-0005", text="  ")

    assert (stale[0], stale[1]["status"]) == (409, "stale")
    assert (forged[0], forged[1]["status"]) == (404, "not_found")
    assert (timeout[0], timeout[1]["status"]) == (422, "invalid")
    assert (no_text[0], no_text[1]["status"]) == (422, "invalid")
    assert web.discord.public_posts(run_id) == []


async def test_console_edit_publishes_the_moderators_text(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")

    status, _ = await browser.decide(web.token(run_id), "edit", text="A better cat joke.")
    await web.stack.drain()

    assert status == 200
    assert [m.payload["text"] for m in web.discord.public_posts(run_id)] == ["A better cat joke."]


async def test_console_plain_form_post_redirects_with_the_answer(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")
    form = {"action": "approve", "click": "click-plain"}

    status, _ = await browser.post(f"/reviews/{web.token(run_id)}/decide", form, json=False)
    _, page = await browser.page("/")

    assert status == 303
    assert "Approved." in page or "approved" in page.lower()


async def test_console_read_only_refuses_decisions(tmp_path: Path) -> None:
    async with console_harness(
        tmp_path, config=ConsoleConfig(secret=SECRET, read_only=True)
    ) as web:
        browser = await web.signed_in()
        run_id = await web.ask("discord:1")
        _, queue = await browser.page("/")
        status, _ = await browser.decide(web.token(run_id), "approve")
        await web.stack.drain()
        edits = web.discord.cards(run_id)[0].edits

    assert "read-only" in queue
    assert "✓ Approve" not in queue
    assert status == 403
    assert edits == []
