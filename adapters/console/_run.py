"""A run's page: every draft, screen results, decisions (who, when, where), cards, audit trail."""

from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException
from starlette.requests import Request
from starlette.responses import Response

from adapters.console._auth import viewer
from adapters.console._identity import Identity
from adapters.console._templates import page, state
from bot.models import AuditEvent, RunDetail

SCREEN_EVENTS = ("screened_out", "llm_error")  # the joke flow's own audit events ("flow")


def where_from(actor: str) -> str:
    """The platform part of an actor ref (``slack:U1`` -> ``slack``); the timer is ``system``."""
    return actor.split(":", 1)[0] if ":" in actor else actor


def screen_results(run: RunDetail) -> list[AuditEvent]:
    """The drafts the screen refused and the model's failures, in order."""
    return [e for e in run.audit if e.event == "flow" and e.data.get("event") in SCREEN_EVENTS]


def run_router() -> APIRouter:
    """``/runs/{run_id}``."""
    router = APIRouter()

    @router.get("/runs/{run_id:path}")
    async def run_page(
        request: Request, run_id: str, who: Annotated[Identity, Depends(viewer)]
    ) -> Response:
        run = await state(request).board.run(run_id)
        if run is None:
            raise HTTPException(404, "No such run.")
        return page(
            request,
            "run.html",
            run=run,
            screened=screen_results(run),
            where_from=where_from,
            seq=state(request).board.last_seq(),
        )

    return router
