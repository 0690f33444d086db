"""Decision-time rights: ask the platform again whether a signed-in person may still decide.

A role is fixed at sign-in, but a moderator can lose the role (or leave the server) while
the session lasts. Before each decision the console calls :meth:`ConsoleRights.actor`, which
asks Discord (the member's roles, with the bot token) or Slack (``users.info`` and the
moderator group) again; answers are reused for ``ttl_s`` at most. When the platform cannot
be asked, only the allow-lists count: fail closed, never open.
"""

import logging
import time
from collections.abc import Awaitable, Callable
from typing import Protocol

import httpx2

from adapters.console._discord_api import DiscordApi, Member
from adapters.console._errors import PlatformUnavailable
from adapters.console._identity import Identity, Role
from adapters.console._roles import discord_role, guild_permissions, slack_role
from adapters.console._signin_config import (
    DISCORD,
    SLACK,
    AllowLists,
    DiscordSignIn,
    SignInConfig,
    SlackSignIn,
)
from adapters.console._slack_api import SlackApi
from bot.models import Actor, ScopeConfig

log = logging.getLogger(__name__)

ScopeLookup = Callable[[str, str], Awaitable[ScopeConfig | None]]  # EventSink.scope


class RoleCheck(Protocol):
    """One platform's answer to "what is this person's role now?"."""

    async def role_now(self, identity: Identity) -> Role | None:
        """The current role; None when the person no longer belongs to the server/workspace.

        Raises:
            PlatformUnavailable: the platform could not be asked.
        """
        ...


class DiscordRights:
    """Roles from the served server: its moderator role, Manage Messages, Manage Server."""

    def __init__(
        self, api: DiscordApi, config: DiscordSignIn, allow: AllowLists, scopes: ScopeLookup
    ) -> None:
        self.api, self.guild_id = api, config.guild_id
        self._api, self._config, self._allow, self._scopes = api, config, allow, scopes

    async def role_of(self, member: Member) -> Role:
        """The role ``member`` has (their role ids are already known)."""
        permissions = None
        if self._config.bot_token:
            try:
                guild = await self._api.guild()
                permissions = guild_permissions(
                    self._config.guild_id,
                    guild.owner_id,
                    member.user_id,
                    member.roles,
                    guild.role_permissions,
                )
            except PlatformUnavailable as exc:  # the moderator role still counts
                log.warning("console: cannot read the server's permissions: %s", exc)
        scope = await self._scopes(DISCORD, self._config.guild_id)
        moderator_role = scope.moderator_role if scope else ""
        return discord_role(member.user_id, member.roles, permissions, moderator_role, self._allow)

    async def role_now(self, identity: Identity) -> Role | None:
        if not self._config.bot_token:
            # No way to ask Discord without the user's token: configuration alone decides.
            return self._allow.role(DISCORD, identity.user_id) or Role.VIEWER
        member = await self._api.member(identity.user_id)
        return None if member is None else await self.role_of(member)


class SlackRights:
    """Roles from the served workspace: ``SLACK_MODERATORS`` and the moderator group."""

    def __init__(self, api: SlackApi, config: SlackSignIn, allow: AllowLists) -> None:
        self._api, self._config, self._allow = api, config, allow

    async def role_of(self, user_id: str) -> Role:
        """The role of a user known to be in the workspace (at sign-in: the ID token says so)."""
        members: frozenset[str] = frozenset()
        if self._config.bot_token and self._config.moderator_group:
            try:
                members = await self._api.group_members(self._config.moderator_group)
            except PlatformUnavailable as exc:  # the listed moderators still count
                log.warning("console: cannot list the moderator group: %s", exc)
        return slack_role(user_id, self._config.moderators, members, self._allow)

    async def role_now(self, identity: Identity) -> Role | None:
        if self._config.bot_token:
            user = await self._api.user(identity.user_id)  # needs the users:read scope
            if user is None or user.deleted or user.team_id != self._config.team_id:
                return None
        return await self.role_of(identity.user_id)


class ConsoleRights:
    """The decision-time check for every configured platform, with a short cache.

    Attributes:
        discord: Discord's check (also maps roles at sign-in), or None.
        slack: Slack's check, or None.
    """

    def __init__(
        self,
        allow: AllowLists,
        *,
        discord: DiscordRights | None = None,
        slack: SlackRights | None = None,
        ttl_s: float = 10.0,
        now: Callable[[], float] = time.monotonic,
    ) -> None:
        self.discord, self.slack = discord, slack
        self._allow, self._ttl_s, self._now = allow, ttl_s, now
        self._cache: dict[tuple[str, str, str], tuple[float, Role | None]] = {}

    async def role_now(self, identity: Identity) -> Role | None:
        """The person's role now (None: no longer a member: sign them out)."""
        key = (identity.platform, identity.scope, identity.user_id)
        hit = self._cache.get(key)
        if hit is not None and self._now() - hit[0] < self._ttl_s:
            return hit[1]
        check: RoleCheck | None = {DISCORD: self.discord, SLACK: self.slack}.get(identity.platform)
        if check is None:
            return None
        try:
            role = await check.role_now(identity)
        except PlatformUnavailable as exc:
            log.warning("console: cannot re-check %s: %s", identity.platform, exc)
            return self._allow.role(identity.platform, identity.user_id) or Role.VIEWER
        self._cache[key] = (self._now(), role)
        return role

    async def actor(self, identity: Identity) -> Actor:
        """The Actor for a decision, ``is_moderator`` from the role as the platform says now."""
        role = await self.role_now(identity)
        return identity.with_role(role or Role.VIEWER).actor()


def build_rights(
    config: SignInConfig,
    http: httpx2.AsyncClient,
    scopes: ScopeLookup,
    *,
    now: Callable[[], float] = time.monotonic,
) -> ConsoleRights:
    """The rights check for every platform ``config`` enables, over one HTTP client."""
    discord = slack = None
    if config.discord:
        api = DiscordApi(http, config.discord)
        discord = DiscordRights(api, config.discord, config.allow, scopes)
    if config.slack:
        slack = SlackRights(SlackApi(http, config.slack), config.slack, config.allow)
    return ConsoleRights(
        config.allow, discord=discord, slack=slack, ttl_s=config.rights_ttl_s, now=now
    )
