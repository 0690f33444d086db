"""Who may see and do what: FastAPI dependencies for signed-in viewers and deciders.

A page asked for without a session redirects to ``/login``; anything else (a POST, the event
stream, a fragment) is answered 401. A forged or tampered cookie fails its signature check in
the session middleware, which then sees no session at all.
"""

from fastapi import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response

from adapters.console._identity import Identity, Role, signed_in


class NotSignedIn(Exception):
    """The request needs a session and has none."""


def viewer(request: Request) -> Identity:
    """The signed-in identity (any role)."""
    who = signed_in(request)
    if who is None:
        raise NotSignedIn
    return who


def admin(request: Request) -> Identity:
    """The signed-in identity, if an admin (403 otherwise)."""
    who = viewer(request)
    if who.role != Role.ADMIN:
        raise HTTPException(403, "Only a console admin may do this.")
    return who


async def not_signed_in(request: Request, exc: Exception) -> Response:
    """Pages send people to sign in; everything else gets 401."""
    wants_page = request.method == "GET" and "text/html" in request.headers.get("accept", "")
    if wants_page:
        return RedirectResponse("/login", status_code=303)
    return JSONResponse({"detail": "Sign in first."}, status_code=401)
