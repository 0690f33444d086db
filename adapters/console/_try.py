"""The "try it" page: the tutorial's joke loop in the browser, over the ``/try/ws`` WebSocket.

``GET /try`` shows the form (``try.html``, ``static/try.js``); the WebSocket
(:mod:`adapters.console._try_ws`) takes the topic from the signed-in person, streams the draft
as the model writes it and says when it is in the queue. The request comes from the console:
its requester is the signed-in identity and its review happens on the console's own surface.
"""

from typing import Annotated

from fastapi import APIRouter, Depends
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from adapters.console._auth import viewer
from adapters.console._identity import Identity, signed_in
from adapters.console._sender import CHANNEL, PLATFORM
from adapters.console._templates import page
from adapters.console._try_ws import try_router
from bot.models import Actor, Origin, Surface
from bot.ports import DraftWatch, EventSink


def origin_of(connection: HTTPConnection) -> Origin | None:
    """Where a try-it request comes from: the signed-in person on the console (None: nobody)."""
    who = signed_in(connection)
    if who is None:
        return None
    requester = Actor(PLATFORM, who.ref, who.display)
    return Origin(
        PLATFORM, CHANNEL, requester, CHANNEL, CHANNEL, CHANNEL, (Surface(PLATFORM, CHANNEL),)
    )


def try_routes(sink: EventSink, watch: DraftWatch) -> APIRouter:
    """``GET /try`` and the ``/try/ws`` WebSocket."""
    router = APIRouter()

    @router.get("/try")
    async def try_page(request: Request, who: Annotated[Identity, Depends(viewer)]) -> Response:
        return page(request, "try.html")

    router.include_router(try_router(sink, watch, origin_of))
    return router
