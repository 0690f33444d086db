"""Decisions from the browser: one POST per click, through the same ``decide`` as every surface.

The click carries a random id made when the page was rendered, so a resent form is the same
interaction (DUPLICATE), never a second decision. Who may decide is asked again now
(:class:`adapters.console._identity.Rights`), not taken from the session's role.
"""

from typing import Annotated

from fastapi import APIRouter, Depends, Form, HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from adapters.console._auth import viewer
from adapters.console._csrf import require_csrf
from adapters.console._identity import Identity
from adapters.console._sender import PLATFORM
from adapters.console._templates import state
from bot.models import Actor, DecideStatus, DecisionRequest
from bot.review import MODERATOR_ACTIONS, ReviewAction

HTTP_STATUS = {
    DecideStatus.APPLIED: 200,
    DecideStatus.DUPLICATE: 200,
    DecideStatus.ALREADY_DECIDED: 409,
    DecideStatus.EXPIRED: 409,
    DecideStatus.STALE: 409,
    DecideStatus.FORBIDDEN: 403,
    DecideStatus.NOT_FOUND: 404,
    DecideStatus.INVALID: 422,
}
MAX_TEXT = 2000


def decide_router() -> APIRouter:
    """``POST /reviews/{token}/decide``: answers JSON to scripts, a redirect to plain forms."""
    router = APIRouter()

    @router.post("/reviews/{token}/decide", dependencies=[Depends(require_csrf)])
    async def decide(
        request: Request,
        token: str,
        who: Annotated[Identity, Depends(viewer)],
        action: Annotated[str, Form(max_length=20)],
        click: Annotated[str, Form(min_length=8, max_length=64)],
        reason: Annotated[str, Form(max_length=MAX_TEXT)] = "",
        text: Annotated[str, Form(max_length=MAX_TEXT)] = "",
    ) -> Response:
        console = state(request)
        if console.config.read_only:
            raise HTTPException(403, "The console is read-only.")
        data = {
            str(ReviewAction.REJECT): {"reason": reason},
            str(ReviewAction.EDIT): {"text": text},
        }
        actor = Actor(PLATFORM, who.ref, who.display, await console.rights.may_decide(who))
        result = await console.sink.decide(
            DecisionRequest(
                token=token,
                action=action if action in MODERATOR_ACTIONS else f"not:{action}",
                actor=actor,
                interaction_id=f"{who.ref}:{click}",
                data=data.get(action, {}),
            )
        )
        body = {
            "status": str(result.status),
            "message": result.message,
            "decided_by": result.decided_by,
            "decision": result.decision,
        }
        if "application/json" in request.headers.get("accept", ""):
            return JSONResponse(body, status_code=HTTP_STATUS[result.status])
        request.session["flash"] = result.message
        return RedirectResponse("/", status_code=303)

    return router
