"""Rendering: the Jinja2 environment (templates shipped in the package) and :func:`page`.

Every page extends ``base.html`` and fills ``{% block content %}``; :func:`page` gives each one
the signed-in identity, the CSRF token, the navigation and the console's mode. Autoescaping is
on for every template: user text (topics, drafts, names) is never markup.
"""

import secrets
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape
from starlette.requests import Request
from starlette.responses import Response
from starlette.templating import Jinja2Templates

from adapters.console._config import ConsoleConfig
from adapters.console._csrf import csrf_token
from adapters.console._identity import Rights, signed_in
from bot.models import platform_name
from bot.ports import Clock, EventSink, ReviewBoard

# every page in the navigation; a page another part of the console has not mounted is greyed
NAV = (
    ("Queue", "/"),
    ("History", "/history"),
    ("Stats", "/stats"),
    ("Queues", "/queues"),
    ("Try it", "/try"),
)


@dataclass
class ConsoleState:
    """What every route needs, kept on ``app.state.console``."""

    config: ConsoleConfig
    sink: EventSink
    board: ReviewBoard
    clock: Clock
    rights: Rights
    providers: tuple[str, ...] = ()  # the platform sign-ins offered on /login
    pages: set[str] = field(default_factory=set)  # the paths routed (navigation greys the rest)
    extra: dict[str, Any] = field(default_factory=dict)  # for the pages other modules add


def state(request: Request) -> ConsoleState:
    """The console of the app serving ``request``."""
    console: ConsoleState = request.app.state.console
    return console


def when(ts: float | None) -> str:
    """A timestamp for people: ``2026-01-01 12:00:00 UTC``."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(seconds: float) -> str:
    """A duration for people: ``42 s``, ``5 min``, ``3 h``, ``2 d``."""
    seconds = max(0.0, seconds)
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{int(seconds // size)} {unit}"
    return f"{int(seconds)} s"


def _environment() -> Environment:
    env = Environment(
        loader=PackageLoader("adapters.console", "templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = when
    env.filters["ago"] = ago
    env.filters["platform_name"] = platform_name
    env.globals["click_id"] = lambda: secrets.token_hex(12)  # one per rendered decision form
    return env


templates = Jinja2Templates(env=_environment())


def page(request: Request, name: str, *, status_code: int = 200, **context: Any) -> Response:
    """Render template ``name`` with the common context."""
    console = state(request)
    nav = [(label, href, href in console.pages) for label, href in NAV]
    common = {
        "who": signed_in(request),
        "csrf": csrf_token(request),
        "nav": nav,
        "path": request.url.path,
        "read_only": console.config.read_only,
        "now": console.clock.now(),
        "flash": request.session.pop("flash", None),
        "providers": console.providers,
    }
    return templates.TemplateResponse(request, name, common | context, status_code=status_code)
