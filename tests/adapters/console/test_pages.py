"""The queue, run and queues pages as a signed-in person sees them (server-rendered HTML)."""

import re
from pathlib import Path

from adapters.console import Identity, Role
from bot.models import Surface
from tests.support.console import MOD, ConsoleHarness, console_harness
from tests.support.llm import FakeLLM


def tokens_in(html: str) -> list[str]:
    return re.findall(r'id="r-([0-9a-f]+)"', html)


async def test_queue_lists_pending_reviews_newest_first(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    first = await web.ask("discord:1", "cats")
    web.clock.advance(60)
    second = await web.ask("discord:2", "dogs")

    _, html = await browser.page("/")

    assert tokens_in(html) == [web.token(second), web.token(first)]
    assert "by <strong>ann</strong>" in html
    assert "Discord" in html


async def test_queue_filters_by_status_age_platform_queue_and_text(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    cats = await web.ask("discord:1", "cats")
    web.clock.advance(7200)
    dogs = await web.ask("discord:2", "dogs")
    await web.discord.click(web.stack.service.decide, web.token(cats), "approve", MOD)
    await web.stack.drain()

    _, pending = await browser.page("/")
    _, decided = await browser.page("/?status=decided")
    _, recent = await browser.page("/?status=decided&age=1h")
    _, slack = await browser.page("/?platform=slack")
    _, guild = await browser.page("/?queue=guild1")
    _, other = await browser.page("/?queue=elsewhere")
    _, found = await browser.page("/?q=DOGS")
    _, missing = await browser.page("/?q=zebra")

    assert tokens_in(pending) == [web.token(dogs)]
    assert tokens_in(decided) == [web.token(cats)]
    assert "approve by dana" in decided
    assert tokens_in(recent) == [web.token(cats)]  # decided just now, though asked 2 h ago
    assert tokens_in(slack) == []
    assert tokens_in(guild) == [web.token(dogs)]
    assert tokens_in(other) == []
    assert tokens_in(found) == [web.token(dogs)]
    assert tokens_in(missing) == []


async def test_queue_escapes_user_text(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    await web.ask("discord:1", "<script>alert(1)</script> cats")

    _, html = await browser.page("/")

    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;" in html


async def test_queue_item_fragment_shows_one_review(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")

    status, html = await browser.page(f"/queue/items/{web.token(run_id)}")
    missing, _ = await browser.page("/queue/items/nope")

    assert status == 200
    assert html.lstrip().startswith("<article")
    assert tokens_in(html) == [web.token(run_id)]
    assert missing == 404


async def test_run_page_shows_drafts_decisions_where_and_the_audit_trail(
    web: ConsoleHarness,
) -> None:
    browser = await web.signed_in()
    run_id = await web.ask("discord:1")
    first = web.discord.cards(run_id)[0].payload["card"]["draft"]
    await browser.decide(web.token(run_id), "reject", "click-0001", reason="too long")
    await web.stack.drain()
    await web.discord.click(web.stack.service.decide, web.token(run_id), "approve", MOD)
    await web.stack.drain()
    second = web.discord.cards(run_id)[-1].payload["card"]["draft"]

    status, html = await browser.page(f"/runs/{run_id}")
    async with web.stack.store.read() as tx:
        audit = await tx.audit(run_id)

    assert status == 200
    assert first in html
    assert second in html
    assert "reject</strong> by local admin" in html
    assert "via the web console" in html
    assert "“too long”" in html
    assert "approve</strong> by dana" in html
    assert "via Discord" in html
    assert html.count("<tr><td>") >= len(audit)  # one audit row per line (and the cards)
    assert all(f"<td>{a.id}</td>" in html for a in audit)


async def test_run_page_shows_what_the_screen_refused(tmp_path: Path) -> None:
    llm = FakeLLM("Cats nap. A lot.", "Cats nap. A lot.", "Dogs dig holes for fun.")
    async with console_harness(tmp_path, llm=llm) as web:
        browser = await web.signed_in()
        run_id = await web.ask("discord:1")
        await browser.decide(web.token(run_id), "reject", "click-0001")
        await web.stack.drain()

        _, html = await browser.page(f"/runs/{run_id}")

    assert "screened_out</span> duplicate" in html
    assert html.count("“Cats nap. A lot.”") == 1  # the refused repeat
    assert "Dogs dig holes for fun." in html


async def test_run_page_of_an_unknown_run_is_404(web: ConsoleHarness) -> None:
    browser = await web.signed_in()

    status, _ = await browser.page("/runs/discord:nope")

    assert status == 404


async def test_queues_page_links_the_console_with_a_code(web: ConsoleHarness) -> None:
    admin = await web.signed_in()
    code = await web.stack.service.link_code("discord", "guild1")

    _, before = await admin.page("/queues")
    status, _ = await admin.post("/queues/link", {"code": code.code}, json=False)
    _, after = await admin.page("/queues")
    reused, _ = await admin.post("/queues/link", {"code": code.code}, json=False)
    _, refused = await admin.page("/queues")
    run_id = await web.ask("discord:1")
    surfaces = {Surface.from_json(m.payload["surface"]) for m in web.discord.cards(run_id)}
    async with web.stack.store.read() as tx:
        console_cards = [
            e
            for e in await tx.run_effects(run_id)
            if e.payload.get("surface", {}).get("platform") == "console"
        ]

    assert "No routes yet" in before
    assert status == 303
    assert "are now reviewed in this channel too" in after
    assert "the web console</span> web" in after
    assert reused == 303
    assert "unknown, already used or expired" in refused
    assert surfaces == {Surface("discord", "mods")}
    assert [(e.kind, e.status, e.platform_ref) for e in console_cards] == [
        ("review.post", "done", f"console:{web.token(run_id)}")
    ]


async def test_queues_link_is_for_admins_only(web: ConsoleHarness) -> None:
    mod = await web.signed_in_as(Identity("console", "m", "mo", Role.MODERATOR))
    code = await web.stack.service.link_code("discord", "guild1")

    _, page = await mod.page("/queues")
    status, _ = await mod.post("/queues/link", {"code": code.code}, json=False)

    assert "Review a scope here" not in page
    assert status == 403
