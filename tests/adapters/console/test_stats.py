"""The stats page after a scripted run: every number drawn agrees with the audit log.

The model takes scripted times (it moves the fake clock while it "thinks"); moderators
approve, reject with reasons and let one review expire; the model fails once. The expected
numbers are recomputed here from the audit log alone, then read back from the page's SVG.
"""

import itertools
import math
import re
import xml.etree.ElementTree as ET
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.store import AuditRow
from tests.support.console import ConsoleHarness, console_harness
from tests.support.console_script import DRAFT_TIMES, REPLIES, TimedLLM, scripted_run

SVG = "{http://www.w3.org/2000/svg}"


def rank(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p * len(ordered)) - 1)]


def expected_from(audit: list[AuditRow]) -> dict[str, Any]:
    """The stats page's numbers, from the audit log only."""
    cards = {
        a.data["effect_id"]
        for a in audit
        if a.event == "effect.done" and a.data["kind"] == "review.post"
    }
    # a review is a wait whose step posted a card (the model's retry timer is a wait too)
    opened = {
        a.data["wait"]: a.at
        for a in audit
        if a.event == "step" and a.data.get("wait") and cards & set(a.data["effects"])
    }
    decided = [a for a in audit if a.event == "wait.decided"]
    steps: dict[str, list[AuditRow]] = {}
    for a in audit:
        if a.event == "step":
            steps.setdefault(a.run_id, []).append(a)
    drafting = [
        after.at - before.at
        for rows in steps.values()
        for before, after in itertools.pairwise(rows)
        if before.data["cursor"] == "draft_joke"
    ]
    actions = Counter(a.data["action"] for a in decided)
    times = [a.at - opened[a.data["token"]] for a in decided]
    return {
        "requests": sum(a.event == "run.started" for a in audit),
        "results": {
            "approved": actions["approve"],
            "edited": actions["edit"],
            "rejected": actions["reject"],
            "expired": sum(a.event == "wait.expired" and a.data["token"] in opened for a in audit),
        },
        "moderators": Counter(a.actor for a in decided),
        "reasons": Counter(
            a.data["data"].get("reason", "") for a in decided if a.data["action"] == "reject"
        ),
        "decision": (rank(times, 0.5), rank(times, 0.95)),
        "drafting": sorted(drafting),
        "failures": sum(a.event == "flow" and a.data.get("event") == "llm_error" for a in audit),
    }


def chart(html: str, name: str) -> ET.Element:
    found = re.search(rf'id="c-{name}"><h2>[^<]*</h2>(<svg.*?</svg>)', html, re.S)
    assert found is not None, name
    return ET.fromstring(found.group(1))  # noqa: S314  (our own page)


def bars(html: str, name: str) -> dict[str, float]:
    root = chart(html, name)
    return {
        g.get("data-label", ""): float(g.get("data-value", "nan").replace(",", ""))
        for g in root.iter(f"{SVG}g")
        if g.get("class") == "bar"
    }


def figure(html: str, name: str) -> str:
    found = re.search(rf'id="f-{name}">([^<]*)<', html)
    assert found is not None, name
    return found.group(1)


async def test_stats_page_draws_what_the_audit_log_says(tmp_path: Path) -> None:
    llm = TimedLLM(DRAFT_TIMES, *REPLIES)
    async with console_harness(tmp_path, llm=llm) as web:
        llm.clock = web.clock
        browser = await web.signed_in()
        await scripted_run(web)
        async with web.stack.store.read() as tx:
            want = expected_from(await tx.audit())

        status, html = await browser.page("/stats")

    assert status == 200
    assert want["drafting"] == pytest.approx(sorted(DRAFT_TIMES), abs=1e-3)  # each call, timed
    assert figure(html, "requests") == str(want["requests"]) == "3"
    results = bars(html, "results")
    assert {k: results[k] for k in want["results"]} == want["results"]
    assert want["results"] == {"approved": 2, "edited": 0, "rejected": 2, "expired": 1}
    assert (results["pending"], results["cancelled"]) == (0, 0)
    assert figure(html, "approved") == "40 %"  # 2 of 5 closed reviews
    assert figure(html, "rejected") == "40 %"
    assert figure(html, "expired") == "20 %"
    assert bars(html, "moderators") == {
        {"discord:m1": "dana", "discord:m2": "eve"}[ref]: n for ref, n in want["moderators"].items()
    }
    assert bars(html, "reasons") == dict(want["reasons"]) == {"too long": 2}
    p50, p95 = want["decision"]
    assert figure(html, "decision") == f"{p50:.1f} s"
    assert f"p95 {p95:.1f} s" in html
    assert figure(html, "drafting") == f"{rank(want['drafting'], 0.5):.1f} s"
    assert f"p95 {rank(want['drafting'], 0.95):.1f} s" in html
    buckets = bars(html, "drafting")
    assert sum(buckets.values()) == len(DRAFT_TIMES)
    assert buckets["< 0.5 s"] == 1
    assert buckets["5-10 s"] == 1
    assert figure(html, "failures") == str(want["failures"]) == "1"
    points = [
        float(c.get("data-value", "nan")) for c in chart(html, "requests").iter(f"{SVG}circle")
    ]
    assert sum(points) == want["requests"]


async def test_stats_page_without_runs_shows_dashes_and_empty_charts(web: ConsoleHarness) -> None:
    browser = await web.signed_in()

    status, html = await browser.page("/stats?days=7")

    assert status == 200
    assert figure(html, "requests") == "0"
    assert figure(html, "decision") == "\N{EN DASH}"  # no decision: a dash
    assert "No data yet" in html
    assert 'value="7" selected' in html


async def test_stats_page_needs_a_session(web: ConsoleHarness) -> None:
    browser = await web.browser()

    async with browser.http.get(web.base + "/stats", allow_redirects=False) as r:
        assert r.status == 401
