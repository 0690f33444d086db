"""A minimal console for sign-in tests: SessionMiddleware, the sign-in routes, a recording sign_in.

``signin_world()`` starts the fake Discord and Slack providers, builds the rights check and the
app, and gives a :class:`Browser`: an httpx2 client on the app (ASGI, host ``console.test``)
that follows redirects by hand, so each hop can be inspected or tampered with.
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx2
from fastapi import FastAPI, Request, Response
from fastapi.responses import PlainTextResponse
from starlette.middleware.sessions import SessionMiddleware

from adapters.console._identity import Identity
from adapters.console._oauth import oauth_routes
from adapters.console._rights import ConsoleRights, build_rights
from adapters.console._signin_config import (
    DiscordSignIn,
    SignInConfig,
    SlackSignIn,
)
from bot.models import ScopeConfig
from tests.support.clock import FakeClock
from tests.support.fake_oauth import FakeDiscordOAuth, FakeSlackOIDC, serving

CONSOLE = "http://console.test"
SESSION_SECRET = "session-secret-for-tests"  # noqa: S105  # signs the test app's cookies


@dataclass
class Scopes:
    """The guild settings ``/jokeconfig`` saved (``EventSink.scope``), in memory."""

    configs: dict[tuple[str, str], ScopeConfig] = field(default_factory=dict)

    async def __call__(self, platform: str, scope: str) -> ScopeConfig | None:
        return self.configs.get((platform, scope))

    def moderator_role(self, platform: str, scope: str, role: str) -> None:
        self.configs[(platform, scope)] = ScopeConfig(platform, scope, "C1", "C2", role)


class Browser:
    """One browser: the console's cookies, redirects followed one hop at a time."""

    def __init__(self, app: FastAPI, address: str = "127.0.0.1") -> None:
        transport = httpx2.ASGITransport(app=app, client=(address, 50000))
        self.console = httpx2.AsyncClient(transport=transport, base_url=CONSOLE)
        self.web = httpx2.AsyncClient()  # to the providers (their own cookies do not matter)

    async def start(self, platform: str) -> httpx2.Response:
        """``GET /login/<platform>``: the console's redirect to the provider."""
        return await self.console.get(f"/login/{platform}")

    async def authorize(self, start: httpx2.Response) -> httpx2.Response:
        """Follow the console's redirect to the provider's authorize page."""
        assert start.status_code == 302, start.text
        return await self.web.get(start.headers["location"])

    async def back(self, authorized: httpx2.Response) -> httpx2.Response:
        """Follow the provider's redirect back to the console's callback."""
        assert authorized.status_code == 302, authorized.text
        location = urlsplit(authorized.headers["location"])
        assert f"{location.scheme}://{location.netloc}" == CONSOLE
        return await self.console.get(f"{location.path}?{location.query}")

    async def login(self, platform: str) -> httpx2.Response:
        """The whole sign-in: start, authorize, callback; the console's last answer."""
        return await self.back(await self.authorize(await self.start(platform)))

    async def close(self) -> None:
        await self.console.aclose()
        await self.web.aclose()


def query_of(response: httpx2.Response) -> dict[str, str]:
    """The query parameters of a redirect's Location."""
    query = parse_qs(urlsplit(response.headers["location"]).query)
    return {k: v[0] for k, v in query.items()}


@dataclass
class SignInWorld:
    """Everything a sign-in test touches."""

    clock: FakeClock
    discord: FakeDiscordOAuth
    slack: FakeSlackOIDC
    scopes: Scopes
    config: SignInConfig
    rights: ConsoleRights
    app: FastAPI
    browser: Browser
    signed_in: list[Identity]
    http: httpx2.AsyncClient

    def browser_at(self, address: str) -> Browser:
        """Another browser, from another client address (closed with the world)."""
        other = Browser(self.app, address)
        self._extra.append(other)
        return other

    _extra: list[Browser] = field(default_factory=list)


def build_app(
    config: SignInConfig, rights: ConsoleRights, clock: FakeClock, signed_in: list[Identity]
) -> FastAPI:
    """The test console: sessions, the sign-in routes, and a sign_in that records."""

    async def sign_in(request: Request, identity: Identity) -> Response:
        signed_in.append(identity)
        request.session["user"] = [identity.platform, identity.user_id, identity.role.label]
        return PlainTextResponse(f"signed in as {identity.role.label}")

    app = FastAPI()
    app.add_middleware(SessionMiddleware, secret_key=SESSION_SECRET, same_site="lax")
    app.include_router(oauth_routes(config, sign_in, rights, now=clock.now))
    return app


@asynccontextmanager
async def signin_world(**config_changes: Any) -> AsyncIterator[SignInWorld]:
    """Both fake providers running, a console app signing in against them; closed on exit."""
    clock = FakeClock()
    discord, slack = FakeDiscordOAuth(clock.now), FakeSlackOIDC(clock.now)
    async with serving(discord), serving(slack), httpx2.AsyncClient() as http:
        config = SignInConfig(
            public_url=CONSOLE,
            discord=DiscordSignIn(
                discord.client_id,
                discord.client_secret,
                discord.guild_id,
                api_base=discord.api_base,
                bot_token=discord.bot_token,
            ),
            slack=SlackSignIn(
                slack.client_id,
                slack.client_secret,
                slack.team_id,
                issuer=slack.issuer,
                api_base=slack.api_base,
                bot_token=slack.bot_token,
                moderators=("UMOD",),
                moderator_group="SMODS",
            ),
        )
        config = replace(config, **config_changes)
        discord.redirect_uris.add(config.redirect_uri("discord"))
        slack.redirect_uris.add(config.redirect_uri("slack"))
        scopes = Scopes()
        rights = build_rights(config, http, scopes, now=clock.now)
        signed_in: list[Identity] = []
        app = build_app(config, rights, clock, signed_in)
        browser = Browser(app)
        world = SignInWorld(
            clock, discord, slack, scopes, config, rights, app, browser, signed_in, http
        )
        try:
            yield world
        finally:
            for b in [browser, *world._extra]:
                await b.close()
