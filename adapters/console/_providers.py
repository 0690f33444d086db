"""The platform sign-ins plugged into the console: routes, the console's session, the re-check.

:func:`provider_routes` builds the Discord/Slack rights check over one HTTP client, registers
it with the console's :class:`Rights` for every configured platform (asked at each decision),
and gives the OAuth routes, which end in the console's own :func:`sign_in` (a fresh session,
then the queue) or a refusal on the sign-in page.
"""

import time
from collections.abc import Callable

import httpx2
from fastapi import APIRouter
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response

from adapters.console._identity import Identity, Rights, sign_in
from adapters.console._oauth import oauth_routes
from adapters.console._rights import ConsoleRights, ScopeLookup, build_rights
from adapters.console._signin_config import DISCORD, SLACK, SignInConfig
from adapters.console._templates import page


def configured(config: SignInConfig) -> tuple[str, ...]:
    """The platforms ``config`` enables, in the order their buttons show."""
    return tuple(
        name for name, on in ((DISCORD, config.discord), (SLACK, config.slack)) if on is not None
    )


def register_checks(
    rights: Rights, platform_rights: ConsoleRights, platforms: tuple[str, ...]
) -> None:
    """At each decision, ask the platform again whether the person may still decide."""

    async def may_decide(who: Identity) -> bool:
        role = await platform_rights.role_now(who)
        return role is not None and role.decides

    for platform in platforms:
        rights.register(platform, may_decide)


async def _signed_in(request: Request, who: Identity) -> Response:
    sign_in(request, who)
    return RedirectResponse("/", status_code=303)


def _refused(request: Request, message: str, status: int) -> Response:
    return page(request, "login.html", token="", used=False, refused=message, status_code=status)


def provider_routes(
    config: SignInConfig,
    rights: Rights,
    http: httpx2.AsyncClient,
    scopes: ScopeLookup,
    *,
    now: Callable[[], float] = time.monotonic,
    local_url: Callable[[], str] | None = None,
) -> APIRouter:
    """The sign-in routes of every configured provider; their re-checks registered on ``rights``.

    ``local_url()``: where the console listens, for the redirect URIs when no public URL is set.
    """
    platform_rights = build_rights(config, http, scopes, now=now)
    register_checks(rights, platform_rights, configured(config))
    return oauth_routes(
        config, _signed_in, platform_rights, refuse=_refused, now=now, local_url=local_url
    )
