"""The queue page: reviews newest activity first, filters, search, and one item as a fragment.

Filters come from the query string (``status``, ``platform``, ``queue``, ``age``, ``q``), so a
filtered view is a link. The page carries the event seq it was rendered at; its event stream
starts there, so nothing that happened meanwhile is missed.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import Response

from adapters.console._auth import viewer
from adapters.console._identity import Identity
from adapters.console._templates import page, state
from bot.models import QueueFilter

AGES = {"": None, "1h": 3600.0, "1d": 86400.0, "7d": 7 * 86400.0}
STATUSES = ("pending", "decided", "expired", "cancelled")
PLATFORMS = ("", "discord", "slack", "terminal")


def queue_filter(
    status: str = "pending", platform: str = "", queue: str = "", age: str = "", q: str = ""
) -> QueueFilter:
    """The filter of a queue URL; unknown values fall back to "everything"."""
    return QueueFilter(
        status=status if status in STATUSES else "pending",
        platform=platform if platform in PLATFORMS else "",
        queue=queue.strip()[:100],
        max_age_s=AGES.get(age),
        search=q.strip()[:200],
    )


def queue_router() -> APIRouter:
    """``/`` (the queue) and ``/queue/items/{token}`` (one entry, for live insertion)."""
    router = APIRouter()

    @router.get("/")
    async def queue_page(
        request: Request,
        who: Annotated[Identity, Depends(viewer)],
        where: Annotated[QueueFilter, Depends(queue_filter)],
        age: str = "",
    ) -> Response:
        board = state(request).board
        seq = board.last_seq()  # first: events after it may already show, never the reverse
        items = await board.queue(where)
        return page(
            request,
            "queue.html",
            items=items,
            where=where,
            age=age if age in AGES else "",
            ages=AGES,
            statuses=STATUSES,
            platforms=PLATFORMS,
            seq=seq,
            can_decide=await state(request).rights.may_decide(who),
        )

    @router.get("/queue/items/{token}")
    async def queue_item(
        request: Request, token: str, who: Annotated[Identity, Depends(viewer)]
    ) -> Response:
        item = await state(request).board.review(token)
        if item is None:
            raise HTTPException(404, "No such review.")
        return page(
            request,
            "_item.html",
            item=item,
            can_decide=await state(request).rights.may_decide(who),
        )

    return router
