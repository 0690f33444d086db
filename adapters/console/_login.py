"""The one-time login link for a local admin, sign-out, and the rate limit on signing in.

``jokebot console`` prints ``<base>/login/<token>``: the token is random (256 bits), used once,
and expires after ``login_ttl_s``. Opening it shows a button (a POST), so a link preview that
fetches the URL does not use it up. Tokens live in this process's memory: the process that
printed the link is the one that serves it.
"""

import secrets
from collections import deque
from dataclasses import dataclass

from fastapi import APIRouter, Depends, HTTPException
from fastapi.responses import RedirectResponse, Response
from starlette.requests import Request

from adapters.console._csrf import require_csrf
from adapters.console._identity import LOCAL_ADMIN, Identity, sign_in, sign_out
from adapters.console._templates import page
from bot.ports import Clock


@dataclass
class _Link:
    who: Identity
    expires_at: float


class LoginLinks:
    """Single-use, expiring login tokens."""

    def __init__(self, clock: Clock, ttl_s: float) -> None:
        self._clock, self._ttl_s = clock, ttl_s
        self._links: dict[str, _Link] = {}

    def issue(self, who: Identity = LOCAL_ADMIN) -> str:
        """A fresh token that signs in as ``who`` once."""
        now = self._clock.now()
        self._links = {t: link for t, link in self._links.items() if link.expires_at > now}
        token = secrets.token_urlsafe(32)
        self._links[token] = _Link(who, now + self._ttl_s)
        return token

    def take(self, token: str) -> Identity | None:
        """The identity of an unexpired, unused token (which is used up); None otherwise."""
        link = self._links.pop(token, None)
        if link is None or link.expires_at <= self._clock.now():
            return None
        return link.who


class RateLimit:
    """At most ``limit`` attempts per client address in any ``window_s`` seconds."""

    def __init__(self, clock: Clock, limit: int, window_s: float) -> None:
        self._clock, self._limit, self._window_s = clock, limit, window_s
        self._seen: dict[str, deque[float]] = {}

    def allow(self, client: str) -> bool:
        """Count one attempt of ``client``; False if it is over the limit."""
        now = self._clock.now()
        times = self._seen.setdefault(client, deque())
        while times and times[0] <= now - self._window_s:
            times.popleft()
        if len(times) >= self._limit:
            return False
        times.append(now)
        return True


def login_router(links: LoginLinks, limit: RateLimit) -> APIRouter:
    """``/login``, ``/login/{token}`` (GET shows, POST signs in) and ``/logout``."""
    router = APIRouter()

    @router.get("/login")
    async def login_page(request: Request) -> Response:
        return page(request, "login.html", token="", used=False)

    @router.get("/login/{token}")
    async def login_link(request: Request, token: str) -> Response:
        return page(request, "login.html", token=token, used=False)

    @router.post("/login/{token}", dependencies=[Depends(require_csrf)])
    async def use_login_link(request: Request, token: str) -> Response:
        client = request.client.host if request.client else "?"
        if not limit.allow(client):
            raise HTTPException(429, "Too many sign-in attempts; wait a minute and try again.")
        who = links.take(token)
        if who is None:
            return page(request, "login.html", token="", used=True, status_code=403)
        sign_in(request, who)
        return RedirectResponse("/", status_code=303)

    @router.post("/logout", dependencies=[Depends(require_csrf)])
    async def logout(request: Request) -> Response:
        sign_out(request)
        return RedirectResponse("/login", status_code=303)

    return router
