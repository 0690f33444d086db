"""The history page: every run, searched, filtered and paged by keyset; exports for admins.

Every run shows (pending, decided, expired, failed); admins get CSV and JSON exports.
Filters are query parameters (``platform``, ``queue``, ``outcome``, ``from``/``to`` as UTC
dates, both included, ``q``), so a filtered view is a link; ``after_at``/``after_id`` name the
last run of the previous page, so a page never shifts when new runs arrive.
"""

from datetime import UTC, datetime, timedelta
from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Depends
from starlette.requests import Request
from starlette.responses import Response, StreamingResponse

from adapters.console._auth import admin, viewer
from adapters.console._export import csv_stream, json_stream
from adapters.console._identity import Identity, Role
from adapters.console._templates import page
from bot.models import OUTCOMES, HistoryCursor, HistoryFilter
from bot.ports import RunInsights

PAGE = 50
PLATFORMS = ("", "discord", "slack", "terminal")


def day_start(text: str) -> float | None:
    """A ``YYYY-MM-DD`` date's UTC midnight; None if blank or not a date."""
    try:
        return datetime.strptime(text.strip(), "%Y-%m-%d").replace(tzinfo=UTC).timestamp()
    except ValueError:
        return None


def history_filter(
    platform: str = "",
    queue: str = "",
    outcome: str = "",
    q: str = "",
    since: str = "",
    until: str = "",
) -> HistoryFilter:
    """The filter of a history URL (``until`` included); unknown values mean "everything"."""
    end = day_start(until)
    return HistoryFilter(
        platform=platform if platform in PLATFORMS else "",
        queue=queue.strip()[:100],
        outcome=outcome if outcome in OUTCOMES else "",
        since=day_start(since),
        until=None if end is None else end + timedelta(days=1).total_seconds(),
        search=q.strip()[:200],
    )


def history_cursor(after_at: float | None = None, after_id: str = "") -> HistoryCursor | None:
    """The page's start: after the run named by ``after_at``/``after_id``, else the newest."""
    return None if after_at is None or not after_id else HistoryCursor(after_at, after_id[:300])


def history_router(insights: RunInsights) -> APIRouter:
    """``/history``, ``/history/export.csv`` and ``/history/export.json``."""
    router = APIRouter()

    def where_of(request: Request) -> HistoryFilter:
        p = request.query_params
        return history_filter(
            p.get("platform", ""),
            p.get("queue", ""),
            p.get("outcome", ""),
            p.get("q", ""),
            p.get("from", ""),
            p.get("to", ""),
        )

    @router.get("/history")
    async def history_page(
        request: Request,
        who: Annotated[Identity, Depends(viewer)],
        after: Annotated[HistoryCursor | None, Depends(history_cursor)],
    ) -> Response:
        where = where_of(request)
        runs = await insights.history(where, after, PAGE + 1)  # one more: is there a next page?
        shown = runs[:PAGE]
        params = [
            (k, v) for k, v in request.query_params.multi_items() if not k.startswith("after_")
        ]
        last = shown[-1].cursor if len(runs) > PAGE else None
        older = (
            None
            if last is None
            else [*params, ("after_at", repr(last.created_at)), ("after_id", last.run_id)]
        )
        return page(
            request,
            "history.html",
            runs=shown,
            where=where,
            form={k: request.query_params.get(k, "") for k in ("from", "to")},
            query=urlencode(params),
            older=None if older is None else urlencode(older),
            paged=after is not None,
            outcomes=OUTCOMES,
            platforms=PLATFORMS,
            exports=who.role == Role.ADMIN,
        )

    @router.get("/history/export.csv")
    async def export_csv(request: Request, who: Annotated[Identity, Depends(admin)]) -> Response:
        return StreamingResponse(
            csv_stream(insights, where_of(request)),
            media_type="text/csv; charset=utf-8",
            headers={"Content-Disposition": 'attachment; filename="jokebot-history.csv"'},
        )

    @router.get("/history/export.json")
    async def export_json(request: Request, who: Annotated[Identity, Depends(admin)]) -> Response:
        return StreamingResponse(
            json_stream(insights, where_of(request)),
            media_type="application/json",
            headers={"Content-Disposition": 'attachment; filename="jokebot-history.json"'},
        )

    return router
