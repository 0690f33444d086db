"""What both fake providers share: JSON answers, the authorize checks, serving on port 0."""

import json
from collections.abc import AsyncIterator, Collection
from contextlib import asynccontextmanager
from typing import Any, Protocol
from urllib.parse import urlencode

from aiohttp import web


class Served(Protocol):
    """A fake with an aiohttp app and the port it listens on."""

    app: web.Application
    port: int


def as_json(data: Any, status: int = 200) -> web.Response:
    """A JSON answer with exactly ``application/json``."""
    return web.Response(
        body=json.dumps(data).encode(), status=status, content_type="application/json"
    )


def redirect(uri: str, **params: str) -> web.Response:
    """302 back to the client's redirect URI with ``params`` in the query."""
    sep = "&" if "?" in uri else "?"
    return web.Response(status=302, headers={"Location": f"{uri}{sep}{urlencode(params)}"})


def authorize_problem(
    query: Any, client_id: str, redirect_uris: Collection[str], scopes: Collection[str]
) -> str | None:
    """Why an authorize request is refused outright (no redirect: RFC 6749 §4.1.2.1), or None."""
    if query.get("client_id") != client_id:
        return "unknown client_id"
    if query.get("redirect_uri") not in redirect_uris:
        return "redirect_uri is not registered for this application"
    if query.get("response_type") != "code":
        return "response_type must be code"
    asked = set(str(query.get("scope", "")).split())
    if not asked or not asked <= set(scopes):
        return f"invalid scope {query.get('scope')!r}"
    return None


@asynccontextmanager
async def serving(fake: Served) -> AsyncIterator[None]:
    """Run ``fake.app`` on 127.0.0.1 with a free port (set on ``fake.port``); closed on exit."""
    runner = web.AppRunner(fake.app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = runner.addresses[0][1]
    try:
        yield
    finally:
        await runner.cleanup()
