"""Workspaces: each installed workspace's current bot token, refreshed before it expires.

Multi-workspace mode only. Slack's rotating tokens live 12 hours and a refresh token can be
exchanged once, so a refresh goes through :meth:`bot.ports.Installations.rotate`: serialised
per installation across every process on the database, and skipped by whoever finds, once it
holds the lock, that another process has already stored a fresh pair.
"""

import logging
from dataclasses import replace

from slack_bolt.authorization import AuthorizeResult
from slack_bolt.authorization.async_authorize import AsyncAuthorize
from slack_bolt.context.async_context import AsyncBoltContext
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._config import PLATFORM
from bot.errors import SendError
from bot.models import Installation, OutboxEffect
from bot.ports import Clock, Installations

log = logging.getLogger(__name__)

REFRESH_BEFORE_S = 2 * 3600.0  # Bolt's default margin (token_rotation_expiration_minutes)


def team_of(effect: OutboxEffect) -> str:
    """The workspace an effect goes to: its run's, for a request made on Slack.

    A Slack review surface linked to another platform's scope names only a channel, which
    does not say whose workspace it is: such effects are refused (multi-workspace mode).
    """
    if effect.origin.platform == PLATFORM:
        return effect.origin.scope
    raise SendError(
        f"{PLATFORM}: cannot tell the workspace of channel {effect.surface.channel!r} for a "
        f"request from {effect.origin.platform} (links to Slack need the single-workspace mode)",
        retryable=False,
    )


class Workspaces:
    """Installed workspaces and their tokens, through the store's ``Installations``.

    Args:
        client: for ``oauth.v2.access`` (no token of its own: the client id and secret
            authenticate the exchange).
        refresh_before_s: a token this close to its expiry is refreshed before use.
    """

    def __init__(
        self,
        installs: Installations,
        client: AsyncWebClient,
        *,
        client_id: str,
        client_secret: str,
        clock: Clock,
        refresh_before_s: float = REFRESH_BEFORE_S,
    ) -> None:
        self.installs = installs
        self._client = client
        self._client_id, self._client_secret = client_id, client_secret
        self._clock = clock
        self._margin = refresh_before_s

    def due(self, installation: Installation) -> bool:
        """Whether the installation's token expires within the margin (never, without rotation)."""
        expires = installation.expires_at
        return expires is not None and expires - self._clock.now() < self._margin

    async def current(self, enterprise_id: str, team_id: str) -> Installation | None:
        """The workspace's installation with a token good for a while; None if not installed."""
        found = await self.installs.find_installation(enterprise_id, team_id)
        if found is None or not self.due(found):
            return found
        try:
            return await self.installs.rotate(enterprise_id, team_id, self.due, self._exchange)
        except SendError:
            if found.expires_at is not None and found.expires_at <= self._clock.now():
                raise
            return found  # still good for a while; the next use tries the refresh again

    async def token(self, team_id: str, enterprise_id: str = "") -> str:
        """The bot token to call Slack with for ``team_id``; SendError if it is not installed."""
        found = await self.current(enterprise_id, team_id)
        if found is None:
            raise SendError(
                f"{PLATFORM}: jokebot is not installed in workspace {team_id!r}",
                retryable=False,
            )
        return found.bot_token

    async def replace_expired(self, team_id: str, stale: str, enterprise_id: str = "") -> str:
        """After Slack answered ``token_expired`` for ``stale``: refresh it (once, whoever asks)."""

        def still_stale(installation: Installation) -> bool:
            return installation.bot_token == stale and bool(installation.refresh_token)

        found = await self.installs.rotate(enterprise_id, team_id, still_stale, self._exchange)
        if found is None:
            raise SendError(
                f"{PLATFORM}: jokebot is not installed in workspace {team_id!r}",
                retryable=False,
            )
        return found.bot_token

    async def _exchange(self, installation: Installation) -> Installation:
        # Runs while the installation is locked; the refresh token is spent by this call.
        now = self._clock.now()
        try:
            resp = await self._client.oauth_v2_access(
                client_id=self._client_id,
                client_secret=self._client_secret,
                grant_type="refresh_token",
                refresh_token=installation.refresh_token,
            )
        except SlackApiError as exc:
            error = exc.response.get("error", "unknown error")
            log.error("%s: token refresh for %s failed: %s", PLATFORM, installation.team_id, error)
            raise SendError(
                f"{PLATFORM}: refreshing the token of workspace {installation.team_id} failed "
                f"({error}); reinstall the app there",
                retryable=error not in ("invalid_refresh_token", "invalid_client_id"),
            ) from exc
        log.info("%s: rotated the bot token of workspace %s", PLATFORM, installation.team_id)
        return replace(
            installation,
            bot_token=str(resp["access_token"]),
            refresh_token=str(resp.get("refresh_token") or ""),
            expires_at=now + float(resp["expires_in"]),
            scopes=str(resp.get("scope") or installation.scopes),
        )


class WorkspaceAuthorize(AsyncAuthorize):
    """Bolt's authorize step for every request: the workspace's installation and token.

    Replaces Bolt's own token rotation (``AsyncInstallationStoreAuthorize``), which refreshes
    without any lock and would let two processes spend one refresh token.
    """

    def __init__(self, workspaces: Workspaces) -> None:
        self._workspaces = workspaces

    async def __call__(
        self,
        *,
        context: AsyncBoltContext,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None,
        actor_enterprise_id: str | None = None,
        actor_team_id: str | None = None,
        actor_user_id: str | None = None,
    ) -> AuthorizeResult | None:
        # an org-wide install answers for every team of its enterprise
        key_team = "" if context.is_enterprise_install else team_id or ""
        found = await self._workspaces.current(enterprise_id or "", key_team)
        if found is None:
            log.warning("%s: request from a workspace without an install: %r", PLATFORM, team_id)
            return None
        return AuthorizeResult(
            enterprise_id=found.enterprise_id or None,
            team_id=found.team_id or team_id,
            bot_token=found.bot_token,
            bot_id=found.bot_id,
            bot_user_id=found.bot_user_id,
            bot_scopes=found.scopes,
            user_id=user_id,
        )
