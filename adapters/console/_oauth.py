"""Sign-in routes: ``/login/discord`` (OAuth2) and ``/login/slack`` (OpenID Connect) via Authlib.

``oauth_routes(config, sign_in, rights)`` gives an ``APIRouter``; the console mounts it under
a ``SessionMiddleware`` (Authlib keeps the ``state`` and the OIDC ``nonce`` in the session)
and supplies ``sign_in(request, identity)``, which starts the console's session and answers.
Every ``/login`` request counts against a per-address rate limit.
"""

import logging
import math
import time
from collections.abc import Awaitable, Callable

import httpx2
from authlib.integrations.starlette_client import OAuth, OAuthError
from fastapi import APIRouter, Request, Response
from fastapi.responses import PlainTextResponse
from joserfc.errors import JoseError

from adapters.console._errors import PlatformUnavailable, SignInRefused
from adapters.console._identity import Identity
from adapters.console._logins import discord_identity, slack_identity
from adapters.console._ratelimit import LoginLimiter
from adapters.console._rights import ConsoleRights
from adapters.console._signin_config import DISCORD, SLACK, SignInConfig

log = logging.getLogger(__name__)

SignIn = Callable[[Request, Identity], Awaitable[Response]]
Refuse = Callable[[Request, str, int], Response]
DISCORD_SCOPES = "identify guilds.members.read"
SLACK_SCOPES = "openid profile email"


def refuse_plain(request: Request, message: str, status: int) -> Response:
    """The default refusal: the reason as plain text."""
    return PlainTextResponse(f"Sign-in refused: {message}", status_code=status)


def register(config: SignInConfig) -> OAuth:
    """An Authlib registry with a client for each configured provider."""
    oauth = OAuth()
    if d := config.discord:
        oauth.register(
            DISCORD,
            client_id=d.client_id,
            client_secret=d.client_secret,
            authorize_url=d.authorize_url,
            access_token_url=d.token_url,
            client_kwargs={"scope": DISCORD_SCOPES},
        )
    if s := config.slack:
        oauth.register(
            SLACK,
            client_id=s.client_id,
            client_secret=s.client_secret,
            authorize_url=s.authorize_url,
            access_token_url=s.api("openid.connect.token"),
            # Server metadata (Authlib keeps extra keywords): ID tokens are checked against it.
            issuer=s.issuer,
            jwks_uri=s.jwks_url,
            userinfo_endpoint=s.api("openid.connect.userInfo"),
            client_kwargs={
                "scope": SLACK_SCOPES,
                "token_endpoint_auth_method": "client_secret_post",
            },
        )
    return oauth


def oauth_routes(
    config: SignInConfig,
    sign_in: SignIn,
    rights: ConsoleRights,
    *,
    refuse: Refuse = refuse_plain,
    now: Callable[[], float] = time.monotonic,
    local_url: Callable[[], str] | None = None,
) -> APIRouter:
    """The four sign-in routes for the providers ``config`` enables (others answer 404).

    With a blank ``config.public_url`` the redirect URIs start with ``local_url()`` (where the
    console listens), never with the request's ``Host`` header.
    """
    oauth = register(config)

    def redirect_uri(platform: str) -> str:
        if config.public_url or local_url is None:
            return config.redirect_uri(platform)
        return f"{local_url().rstrip('/')}/login/{platform}/callback"

    limiter = LoginLimiter(config.login_limit, config.login_window_s, now=now)
    router = APIRouter()

    def limited(request: Request) -> Response | None:
        address = request.client.host if request.client else "unknown"
        wait = limiter.hit(address)
        if wait is None:
            return None
        log.warning("console: sign-in rate limit reached for %s", address)
        response = refuse(request, "too many sign-in attempts; try again shortly", 429)
        response.headers["Retry-After"] = str(math.ceil(wait))
        return response

    @router.get("/login/{platform}")
    async def login(request: Request, platform: str) -> Response:
        if (blocked := limited(request)) is not None:
            return blocked
        client = oauth.create_client(platform) if platform in (DISCORD, SLACK) else None
        if client is None:
            return refuse(request, f"sign-in with {platform!r} is not configured", 404)
        extra = {"team": config.slack.team_id} if platform == SLACK and config.slack else {}
        response: Response = await client.authorize_redirect(
            request, redirect_uri(platform), **extra
        )
        return response

    @router.get("/login/{platform}/callback")
    async def callback(request: Request, platform: str) -> Response:
        if (blocked := limited(request)) is not None:
            return blocked
        client = oauth.create_client(platform) if platform in (DISCORD, SLACK) else None
        if client is None:
            return refuse(request, f"sign-in with {platform!r} is not configured", 404)
        try:
            token = await client.authorize_access_token(request, **_checks(config, platform))
            identity = await _identity(config, rights, platform, token)
        except SignInRefused as exc:
            log.info("console: %s sign-in refused: %s", platform, exc)
            return refuse(request, str(exc), 403)
        except (OAuthError, JoseError) as exc:  # bad state, code, signature or claims
            log.info("console: %s sign-in failed: %s: %s", platform, type(exc).__name__, exc)
            return refuse(request, f"{platform} sign-in did not complete; please try again", 400)
        except (PlatformUnavailable, httpx2.HTTPError) as exc:
            log.warning("console: %s sign-in: %s", platform, exc)
            return refuse(request, f"{platform} did not answer; please try again", 502)
        log.info(
            "console: %s user %s signed in as %s", platform, identity.user_id, identity.role.label
        )
        return await sign_in(request, identity)

    return router


def _checks(config: SignInConfig, platform: str) -> dict[str, object]:
    """Slack: the ID token must name our issuer and our client as its audience."""
    if platform != SLACK or not config.slack:
        return {}
    essential = {"essential": True}
    options = {
        "iss": {**essential, "value": config.slack.issuer},
        "aud": {**essential, "value": config.slack.client_id},
        "nonce": essential,
    }
    return {"claims_options": options}


async def _identity(
    config: SignInConfig, rights: ConsoleRights, platform: str, token: dict[str, object]
) -> Identity:
    if platform == DISCORD and rights.discord:
        return await discord_identity(rights.discord, token)
    if platform == SLACK and rights.slack and config.slack:
        return await slack_identity(rights.slack, config.slack, token)
    raise SignInRefused(f"sign-in with {platform} is not configured")
