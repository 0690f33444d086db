"""The queues page: which scopes review where, and a link code to make the console review one.

A code shown by ``/jokelink`` (Discord) or ``/joke link`` (Slack) and entered here routes
that scope's reviews to the console too (``EventSink.link`` on ``Surface("console", "web")``).
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.console._auth import admin, viewer
from adapters.console._csrf import require_csrf
from adapters.console._identity import Identity
from adapters.console._sender import CHANNEL, PLATFORM
from adapters.console._templates import page, state
from bot.errors import BadRequest
from bot.models import Surface

CONSOLE = Surface(PLATFORM, CHANNEL)


def queues_router() -> APIRouter:
    """``/queues`` and ``POST /queues/link``."""
    router = APIRouter()

    @router.get("/queues")
    async def queues_page(request: Request, who: Annotated[Identity, Depends(viewer)]) -> Response:
        routes = await state(request).board.routes()
        return page(request, "queues.html", routes=routes, console=CONSOLE)

    @router.post("/queues/link", dependencies=[Depends(require_csrf)])
    async def use_code(
        request: Request,
        who: Annotated[Identity, Depends(admin)],
        code: Annotated[str, Form(max_length=40)],
    ) -> Response:
        try:
            request.session["flash"] = await state(request).sink.link(code, CONSOLE)
        except BadRequest as exc:
            request.session["flash"] = str(exc)
        return RedirectResponse("/queues", status_code=303)

    return router
