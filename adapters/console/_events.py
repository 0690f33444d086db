"""``GET /events``: the audit log as Server-Sent Events, replay then live tail, with keep-alives.

Every event's ``id:`` is its audit seq. A reconnecting ``EventSource`` sends the last one in
``Last-Event-ID`` and gets exactly what it missed, then the live tail; a first connection
starts after ``?after=`` (the seq its page was rendered at). A ``:`` comment goes out every
``keepalive_s`` of silence so proxies keep the connection open.

Written on a plain ``StreamingResponse`` rather than ``fastapi.sse``: the replay point, the
keep-alive timer (on the console's clock, so tests drive it without sleeping) and the exact
bytes are ours to control and test.
"""

import asyncio
import contextlib
import json
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import StreamingResponse

from adapters.console._auth import viewer
from adapters.console._identity import Identity
from adapters.console._templates import state
from bot.models import AuditEvent
from bot.ports import Clock, ReviewBoard

HEADERS = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
RETRY_MS = 2000


class Frames:
    """The wire text of recent events, made once for every stream of one app (by seq)."""

    def __init__(self, size: int = 4096) -> None:
        self._texts: OrderedDict[int, str] = OrderedDict()
        self._size = size

    def __call__(self, event: AuditEvent) -> str:
        text = self._texts.get(event.seq)
        if text is None:
            text = self._texts[event.seq] = frame(event)
            while len(self._texts) > self._size:
                self._texts.popitem(last=False)
        return text


def frame(event: AuditEvent) -> str:
    """One event on the wire: ``id:``, one ``data:`` line of JSON, a blank line."""
    data = {
        "seq": event.seq,
        "run_id": event.run_id,
        "at": event.at,
        "actor": event.actor,
        "event": event.event,
        "data": event.data,
    }
    return f"id: {event.seq}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"


def start_seq(last_event_id: str | None, after: str | None) -> int:
    """Where a stream starts: ``Last-Event-ID`` wins over ``?after=``; garbage means "now"."""
    for value in (last_event_id, after):
        if value is not None and value.strip().isdigit():
            return int(value.strip())
    return -1


async def stream(
    board: ReviewBoard, clock: Clock, after: int, keepalive_s: float, frames: Frames | None = None
) -> AsyncIterator[str]:
    """The event stream's text: a retry hint, then events and keep-alive comments.

    Events come in batches (what arrived since the last write) and each batch is one write.
    The keep-alive timer is not restarted per batch: when it fires it sends a comment only if
    nothing was sent for ``keepalive_s``, else it sleeps for the rest of that time.
    """
    render = frames or frame
    yield f"retry: {RETRY_MS}\n\n"
    batches = board.follow_batches(after if after >= 0 else board.last_seq())
    upcoming: asyncio.Future[list[AuditEvent]] | None = None
    beat: asyncio.Future[None] = asyncio.ensure_future(clock.sleep(keepalive_s))
    sent = clock.now()
    try:
        while True:
            if upcoming is None:
                upcoming = asyncio.ensure_future(anext(batches))
            waiting: set[asyncio.Future[Any]] = {upcoming, beat}
            done, _ = await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
            if upcoming in done:
                try:
                    batch = upcoming.result()
                except StopAsyncIteration:
                    return
                upcoming = None
                sent = clock.now()
                yield "".join(render(event) for event in batch)
            if beat.done():
                silent = clock.now() - sent
                if silent >= keepalive_s:
                    yield ": keep-alive\n\n"
                    sent, silent = clock.now(), 0.0
                beat = asyncio.ensure_future(clock.sleep(keepalive_s - silent))
    finally:
        beat.cancel()
        if upcoming is not None:
            upcoming.cancel()
            with contextlib.suppress(asyncio.CancelledError, StopAsyncIteration):
                await upcoming
        await _close(batches)


async def _close(events: Any) -> None:
    aclose = getattr(events, "aclose", None)
    if aclose is not None:
        await aclose()


def events_router() -> APIRouter:
    """``/events``."""
    router = APIRouter()
    frames = Frames()  # this app's: seqs are numbers of one database

    @router.get("/events")
    async def events(
        request: Request, who: Annotated[Identity, Depends(viewer)], after: str | None = None
    ) -> StreamingResponse:
        console = state(request)
        start = start_seq(request.headers.get("last-event-id"), after)
        body = stream(console.board, console.clock, start, console.config.keepalive_s, frames)
        return StreamingResponse(body, media_type="text/event-stream", headers=HEADERS)

    return router
