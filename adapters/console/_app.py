"""The console's FastAPI app: session and security middleware, static files, one router per page.

Other parts of the console (sign-in with Discord or Slack, history, stats, the "try it" page)
add their routers through ``routers``; the navigation greys out a page not mounted.
"""

from collections.abc import Sequence

from fastapi import APIRouter, FastAPI
from fastapi.staticfiles import StaticFiles
from starlette.middleware.sessions import SessionMiddleware
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from adapters.console._auth import NotSignedIn, not_signed_in
from adapters.console._config import ConsoleConfig
from adapters.console._decide import decide_router
from adapters.console._events import events_router
from adapters.console._identity import Rights
from adapters.console._login import LoginLinks, RateLimit, login_router
from adapters.console._queue import queue_router
from adapters.console._queues import queues_router
from adapters.console._run import run_router
from adapters.console._templates import ConsoleState
from bot.ports import Clock, EventSink, ReviewBoard

COOKIE = "jokebot_console"
# the pages load only what jokebot serves; no inline script, no framing by other sites
SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; form-action 'self'; base-uri 'none'"
    ),
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
}


class SecurityHeaders:
    """Adds ``SECURITY_HEADERS`` to every HTTP response.

    A plain ASGI middleware, not ``@app.middleware("http")``: Starlette's ``BaseHTTPMiddleware``
    pipes a streamed body through a memory stream and an extra task, which costs the event
    stream a task switch per chunk per open page (measured by bench/console_load.py).
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        self.raw = [(k.lower().encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *self.raw]}
            await send(message)

        await self.app(scope, receive, with_headers)


def create_app(
    config: ConsoleConfig,
    sink: EventSink,
    board: ReviewBoard,
    clock: Clock,
    *,
    links: LoginLinks,
    rights: Rights | None = None,
    routers: Sequence[APIRouter] = (),
    sign_ins: APIRouter | None = None,
    providers: Sequence[str] = (),
) -> FastAPI:
    """The console app over ``sink`` (decisions, links) and ``board`` (reads, the feed).

    ``sign_ins`` holds the platforms' ``/login/<platform>`` routes (routed before the login
    link's ``/login/<token>``); ``providers`` names them for the sign-in page's buttons.
    """
    app = FastAPI(title="jokebot console", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.console = ConsoleState(
        config, sink, board, clock, rights or Rights(), providers=tuple(providers)
    )
    app.add_middleware(
        SessionMiddleware,
        secret_key=config.secret,
        session_cookie=COOKIE,
        max_age=config.session_max_age_s,
        same_site="lax",
        https_only=config.secure_cookies,
    )
    app.add_exception_handler(NotSignedIn, not_signed_in)

    app.add_middleware(SecurityHeaders)

    limit = RateLimit(clock, config.login_attempts, config.login_window_s)
    for router in (
        *([sign_ins] if sign_ins is not None else []),
        login_router(links, limit),
        queue_router(),
        decide_router(),
        run_router(),
        queues_router(),
        events_router(),
        *routers,
    ):
        app.include_router(router)
        app.state.console.pages |= {
            path for r in router.routes if isinstance(path := getattr(r, "path", None), str)
        }
    app.mount("/static", StaticFiles(packages=[("adapters.console", "static")]), name="static")
    return app
