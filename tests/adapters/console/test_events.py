"""``/events``: headers, exact replay after ``Last-Event-ID``, the live tail, keep-alives."""

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

from tests.support.console import MOD, Browser, ConsoleHarness


@dataclass
class Sse:
    """What a stream sent: events (id, data) and comment lines, in order."""

    events: list[tuple[int, dict[str, Any]]]
    comments: list[str]
    retry: str = ""


async def read(
    response: aiohttp.ClientResponse, sse: Sse, *, events: int = 0, comments: int = 0
) -> None:
    """Read whole events from ``response`` into ``sse`` until it holds the counts asked for."""
    block: list[str] = []
    while len(sse.events) < events or len(sse.comments) < comments:
        raw = await asyncio.wait_for(response.content.readline(), 10)
        line = raw.decode().rstrip("\n")
        if line:
            block.append(line)
            continue
        sse.comments += [x for x in block if x.startswith(":")]
        fields = [x.split(": ", 1) for x in block if not x.startswith(":") and ": " in x]
        block = []
        sse.retry = next((v for n, v in fields if n == "retry"), sse.retry)
        ids = [v for n, v in fields if n == "id"]
        data = [v for n, v in fields if n == "data"]
        if ids:
            sse.events.append((int(ids[0]), json.loads("\n".join(data))))


async def audit_ids(web: ConsoleHarness) -> list[int]:
    async with web.stack.store.read() as tx:
        return [a.id or 0 for a in await tx.audit()]


async def stream(browser: Browser, **headers: str) -> aiohttp.ClientResponse:
    return await browser.http.get(browser.base + "/events", headers=headers)


async def test_events_headers_and_retry_hint(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    sse = Sse([], [])

    async with await stream(browser) as response:
        await read(response, sse, comments=0, events=0)
        first = await asyncio.wait_for(response.content.readline(), 5)

    assert response.status == 200
    assert response.headers["Content-Type"].startswith("text/event-stream")
    assert response.headers["Cache-Control"] == "no-cache"
    assert response.headers["X-Accel-Buffering"] == "no"
    assert first == b"retry: 2000\n"


async def test_events_replay_exactly_what_followed_last_event_id_then_the_live_tail(
    web: ConsoleHarness,
) -> None:
    browser = await web.signed_in()
    first = await web.ask("discord:1")
    await web.ask("discord:2", "dogs")
    await web.discord.click(web.stack.service.decide, web.token(first), "approve", MOD)
    await web.stack.drain()
    every = await audit_ids(web)
    cut = every[len(every) // 3]  # the browser saw up to here before its connection dropped
    missed = [i for i in every if i > cut]
    sse = Sse([], [])

    async with await stream(browser, **{"Last-Event-ID": str(cut)}) as response:
        await read(response, sse, events=len(missed))
        await web.ask("discord:3", "fish")  # after the replay: must come live, in order
        live_ids = [i for i in await audit_ids(web) if i > every[-1]]
        await read(response, sse, events=len(missed) + len(live_ids))

    assert [i for i, _ in sse.events] == missed + live_ids
    assert len({i for i, _ in sse.events}) == len(sse.events)  # nothing doubled
    decided = [d for _, d in sse.events if d["event"] == "wait.decided"]
    assert [(d["actor"], d["data"]["action"]) for d in decided] == [("discord:m1", "approve")]


async def test_events_first_connection_starts_after_the_pages_seq(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    await web.ask("discord:1")
    seen = (await audit_ids(web))[-1]
    sse = Sse([], [])

    async with browser.http.get(f"{web.base}/events?after={seen}") as response:
        await web.ask("discord:2", "dogs")
        fresh = [i for i in await audit_ids(web) if i > seen]
        await read(response, sse, events=len(fresh))

    assert [i for i, _ in sse.events] == fresh
    assert any(d["event"] == "step" and d["data"]["wait"] for _, d in sse.events)


async def test_events_send_a_keep_alive_comment_in_silence(web: ConsoleHarness) -> None:
    browser = await web.signed_in()
    sse = Sse([], [])

    async with await stream(browser) as response:
        await asyncio.wait_for(response.content.readline(), 5)  # the retry hint
        await asyncio.sleep(0.05)  # the stream is waiting on the clock now
        web.clock.advance(web.console.config.keepalive_s)
        await read(response, sse, comments=1)

    assert sse.comments == [": keep-alive"]
    assert sse.events == []
