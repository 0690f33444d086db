"""The "try it" page's WebSocket: a topic in, the draft streamed out as it is written.

One request per connection. The client sends ``{"topic": "cats"}``; the server answers
``accepted`` (with the run id), then the run's draft events (:meth:`DraftEvent.to_json`:
``started``, ``delta``, ``screened``, ``failed``, ``finished``) and, once the draft is
committed, ``queued`` with the run id; then it closes the connection (1000). The request goes
through the :class:`EventSink` exactly as any console request would, so cooldowns, topic
checks and the queue's routing apply. A message that is not that JSON object gets an
``error`` and close code 1003; a refused request (a bad topic, the cooldown) an ``error``
with the service's message and 1000; nobody signed in, or a page of another site (its
``Origin`` header names another host: cross-site WebSocket hijacking), 1008.
"""

import asyncio
import contextlib
import json
import logging
import uuid
from collections.abc import Callable
from typing import Any
from urllib.parse import urlsplit

from fastapi import APIRouter, WebSocket, WebSocketDisconnect
from starlette.websockets import WebSocketState

from adapters._text import clean
from bot.errors import BadRequest
from bot.models import DraftEvent, DraftStage, JokeRequest, Origin, RequestStatus
from bot.ports import DraftWatch, EventSink

log = logging.getLogger(__name__)

PATH = "/try/ws"
MAX_MESSAGE = 2000  # characters: a topic is at most a few hundred
QUEUED = "In the queue: a moderator reviews it before it is posted."
MALFORMED = 'Send one JSON object with a topic, e.g. {"topic": "cats"}.'
NOT_SIGNED_IN = "Sign in first."
CROSS_SITE = "Connections from other sites are refused."
FAILED = "Something went wrong on our side; the error was logged. Please try again."

OriginFor = Callable[[WebSocket], Origin | None]  # who asks, from the connection's session


def try_router(sink: EventSink, watch: DraftWatch, origin_for: OriginFor) -> APIRouter:
    """The router with the ``/try/ws`` endpoint.

    Args:
        sink: where the request goes (the service).
        watch: where the draft's progress comes from (the service).
        origin_for: the requester's origin for this connection (the signed-in person on the
            console surface), or None to refuse it.
    """
    router = APIRouter()

    @router.websocket(PATH)
    async def try_ws(websocket: WebSocket) -> None:
        await websocket.accept()
        try:
            await _converse(websocket, sink, watch, origin_for)
        except WebSocketDisconnect:
            return  # the page went away
        except Exception:
            log.exception("try-it connection failed")
            await _close(websocket, FAILED, 1011)

    return router


async def _converse(
    websocket: WebSocket, sink: EventSink, watch: DraftWatch, origin_for: OriginFor
) -> None:
    if not _same_site(websocket):
        await _close(websocket, CROSS_SITE, 1008)
        return
    origin = origin_for(websocket)
    if origin is None:
        await _close(websocket, NOT_SIGNED_IN, 1008)
        return
    topic = _topic(await websocket.receive_text())
    if topic is None:
        await _close(websocket, MALFORMED, 1003)
        return
    result = await sink.request_joke(JokeRequest(f"console:try:{uuid.uuid4().hex}", origin, topic))
    if result.status != RequestStatus.ACCEPTED or result.run_id is None:
        code = 1000 if result.status == RequestStatus.REFUSED else 1011
        await _close(websocket, result.message, code)
        return
    run_id = result.run_id
    await websocket.send_json({"type": "accepted", "run_id": run_id, "message": result.message})
    last = await _follow(websocket, watch, run_id)
    if last is None:
        return  # the page went away while the draft was being written
    if last.stage == DraftStage.FINISHED:
        await websocket.send_json({"type": "queued", "run_id": run_id, "message": QUEUED})
    await websocket.close(1000)


def _same_site(websocket: WebSocket) -> bool:
    """False when a browser opened this from a page of another host (its ``Origin``)."""
    origin = websocket.headers.get("origin")
    if origin is None:
        return True  # not a browser: nothing rides on its cookies
    return urlsplit(origin).netloc == websocket.headers.get("host", "")


def _topic(message: str) -> str | None:
    """The topic of a well-formed request message, else None."""
    if len(message) > MAX_MESSAGE:
        return None
    try:
        data: Any = json.loads(message)
    except ValueError:
        return None
    if not isinstance(data, dict) or set(data) - {"type", "topic"}:
        return None
    topic = data.get("topic")
    if data.get("type", "request") != "request" or not isinstance(topic, str):
        return None
    return topic


async def _follow(websocket: WebSocket, watch: DraftWatch, run_id: str) -> DraftEvent | None:
    """Stream the run's draft events; the last one, or None if the client left first."""
    forward = asyncio.create_task(_forward(websocket, watch, run_id))
    gone = asyncio.create_task(_until_gone(websocket))
    try:
        done, _ = await asyncio.wait((forward, gone), return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (forward, gone):
            if not task.done():
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect):
                    await task
    if forward not in done:
        return None
    return forward.result()  # raises what forwarding raised


async def _forward(websocket: WebSocket, watch: DraftWatch, run_id: str) -> DraftEvent | None:
    last = None
    try:
        async for event in watch.watch(run_id):
            await websocket.send_json(_to_message(event))
            last = event
    except BadRequest as exc:  # the run vanished (pruned); nothing to follow
        await websocket.send_json({"type": "error", "message": str(exc)})
    return last


def _to_message(event: DraftEvent) -> dict[str, Any]:
    message = event.to_json()
    if event.stage != DraftStage.DELTA:  # a delta's spaces matter; the page cleans what it shows
        message["text"], message["detail"] = clean(event.text), clean(event.detail)
    return message


async def _until_gone(websocket: WebSocket) -> None:
    """Read (and ignore) whatever the client sends until it disconnects."""
    while True:
        message = await websocket.receive()
        if message["type"] == "websocket.disconnect":
            return


async def _close(websocket: WebSocket, message: str, code: int) -> None:
    if websocket.application_state != WebSocketState.CONNECTED:
        return
    with contextlib.suppress(WebSocketDisconnect, RuntimeError):
        await websocket.send_json({"type": "error", "message": message})
        await websocket.close(code)
