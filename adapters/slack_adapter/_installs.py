"""slack_sdk's async installation and OAuth state stores, on the ``Installations`` port.

Bolt's :class:`~slack_bolt.oauth.async_oauth_flow.AsyncOAuthFlow` saves an installation after
``oauth.v2.access`` and checks the ``state`` it issued; both land in jokebot's own database
(``slack_installations``, ``oauth_states``), so every process sees every workspace.
Only the bot token is kept: jokebot asks for no user scopes.
"""

import logging
import secrets
from logging import Logger

from slack_sdk.oauth.installation_store import Bot, Installation as SdkInstallation
from slack_sdk.oauth.installation_store.async_installation_store import AsyncInstallationStore
from slack_sdk.oauth.state_store.async_state_store import AsyncOAuthStateStore

from bot.models import Installation
from bot.ports import Clock, Installations

log = logging.getLogger(__name__)

STATE_TTL_S = 600.0  # Bolt's default for the state cookie


def from_sdk(sdk: SdkInstallation, now: float) -> Installation:
    """Our record of what the OAuth flow installed."""
    return Installation(
        enterprise_id=sdk.enterprise_id or "",
        team_id="" if sdk.is_enterprise_install else sdk.team_id or "",
        bot_token=sdk.bot_token or "",
        bot_id=sdk.bot_id or "",
        bot_user_id=sdk.bot_user_id or "",
        scopes=",".join(sdk.bot_scopes or ()),
        refresh_token=sdk.bot_refresh_token or "",
        expires_at=None if sdk.bot_token_expires_at is None else float(sdk.bot_token_expires_at),
        app_id=sdk.app_id or "",
        team_name=sdk.team_name or "",
        installer_id=sdk.user_id or "",
        is_enterprise_install=bool(sdk.is_enterprise_install),
        installed_at=now,
    )


def to_sdk(found: Installation) -> SdkInstallation:
    """slack_sdk's view of one of our installations."""
    return SdkInstallation(
        app_id=found.app_id or None,
        enterprise_id=found.enterprise_id or None,
        team_id=found.team_id or None,
        team_name=found.team_name or None,
        bot_token=found.bot_token,
        bot_id=found.bot_id,
        bot_user_id=found.bot_user_id,
        bot_scopes=found.scopes,
        bot_refresh_token=found.refresh_token or None,
        bot_token_expires_at=None if found.expires_at is None else int(found.expires_at),
        user_id=found.installer_id,
        is_enterprise_install=found.is_enterprise_install,
        installed_at=found.installed_at,
    )


class PortInstallationStore(AsyncInstallationStore):
    """``AsyncInstallationStore`` over the store (bot tokens only)."""

    def __init__(self, installs: Installations, clock: Clock) -> None:
        self._installs = installs
        self._clock = clock

    @property
    def logger(self) -> Logger:
        return log

    async def async_save(self, installation: SdkInstallation) -> None:
        await self._installs.save_installation(from_sdk(installation, self._clock.now()))

    async def async_save_bot(self, bot: Bot) -> None:
        # Bolt saves bots only through async_save; an explicit call keeps the bot's fields
        sdk = SdkInstallation(
            app_id=bot.app_id,
            enterprise_id=bot.enterprise_id,
            team_id=bot.team_id,
            team_name=bot.team_name,
            bot_token=bot.bot_token,
            bot_id=bot.bot_id,
            bot_user_id=bot.bot_user_id,
            bot_scopes=bot.bot_scopes,
            bot_refresh_token=bot.bot_refresh_token,
            bot_token_expires_at=bot.bot_token_expires_at,
            user_id="",
            is_enterprise_install=bot.is_enterprise_install,
        )
        await self.async_save(sdk)

    async def async_find_bot(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        is_enterprise_install: bool | None = False,
    ) -> Bot | None:
        found = await self._find(enterprise_id, team_id, is_enterprise_install)
        return None if found is None else to_sdk(found).to_bot()

    async def async_find_installation(
        self,
        *,
        enterprise_id: str | None,
        team_id: str | None,
        user_id: str | None = None,
        is_enterprise_install: bool | None = False,
    ) -> SdkInstallation | None:
        found = await self._find(enterprise_id, team_id, is_enterprise_install)
        return None if found is None else to_sdk(found)

    async def _find(
        self, enterprise_id: str | None, team_id: str | None, org_wide: bool | None
    ) -> Installation | None:
        team = "" if org_wide else team_id or ""
        return await self._installs.find_installation(enterprise_id or "", team)

    async def async_delete_bot(self, *, enterprise_id: str | None, team_id: str | None) -> None:
        await self._installs.delete_installation(enterprise_id or "", team_id or "")

    async def async_delete_installation(
        self, *, enterprise_id: str | None, team_id: str | None, user_id: str | None = None
    ) -> None:
        if user_id is None:  # a user's own tokens are never stored; the bot's go with the app
            await self._installs.delete_installation(enterprise_id or "", team_id or "")


class PortStateStore(AsyncOAuthStateStore):
    """``AsyncOAuthStateStore`` over the store: each state single-use, for ``ttl_s``."""

    def __init__(self, installs: Installations, clock: Clock, ttl_s: float = STATE_TTL_S) -> None:
        self._installs = installs
        self._clock = clock
        self._ttl_s = ttl_s

    @property
    def logger(self) -> Logger:
        return log

    async def async_issue(self, *args: object, **kwargs: object) -> str:
        state = secrets.token_urlsafe(24)
        await self._installs.issue_state(state, self._clock.now() + self._ttl_s)
        return state

    async def async_consume(self, state: str) -> bool:
        return await self._installs.consume_state(state, self._clock.now())
