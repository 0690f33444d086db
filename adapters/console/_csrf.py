"""CSRF: one random token per session, sent back with every POST (form field or header).

SameSite=Lax cookies already keep other sites' POSTs from carrying the session; the token is
the second lock (and covers browsers that ignore SameSite). GETs and the event stream change
nothing and need none.
"""

import hmac
import secrets

from fastapi import HTTPException
from starlette.requests import Request

HEADER = "X-CSRF-Token"
FIELD = "csrf"


def csrf_token(request: Request) -> str:
    """This session's token, made on first use (an anonymous session gets one too)."""
    token = request.session.get("csrf")
    if not isinstance(token, str) or not token:
        token = secrets.token_urlsafe(32)
        request.session["csrf"] = token
    return token


async def require_csrf(request: Request) -> None:
    """Refuse a POST whose token is missing or not this session's (403)."""
    expected = request.session.get("csrf")
    sent = request.headers.get(HEADER)
    if sent is None:
        form = await request.form()
        value = form.get(FIELD)
        sent = value if isinstance(value, str) else None
    if not isinstance(expected, str) or not sent or not hmac.compare_digest(expected, sent):
        raise HTTPException(403, "The form expired or came from elsewhere; reload the page.")
