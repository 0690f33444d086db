"""Who is signed in to the console: a neutral identity with a role, kept in the signed session.

Sign-in paths (the one-time login link here, Discord or Slack OAuth in ``_oauth``) all end in
:func:`sign_in`. A role says what the console shows; the right to decide is asked again at
every decision (:class:`Rights`), from the platform's role or allow-list when the identity
comes from one.
"""

import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, replace
from enum import StrEnum

from starlette.requests import HTTPConnection, Request

from bot.models import Actor

LOCAL = "console"  # the platform of identities the console itself vouches for (login links)


class Role(StrEnum):
    """What a signed-in person may do: look, decide, or also administer."""

    VIEWER = "viewer"
    MODERATOR = "moderator"
    ADMIN = "admin"

    @property
    def decides(self) -> bool:
        """Whether this role may decide reviews at all."""
        return self in (Role.MODERATOR, Role.ADMIN)

    @property
    def rank(self) -> int:
        """1 viewer, 2 moderator, 3 admin: a higher role may do everything a lower one may."""
        return (Role.VIEWER, Role.MODERATOR, Role.ADMIN).index(self) + 1

    @property
    def label(self) -> str:
        """``viewer``, ``moderator`` or ``admin``: the name shown and stored in the session."""
        return self.value

    @classmethod
    def from_label(cls, label: str) -> "Role":
        """The role named ``label``; ValueError for any other text (a tampered session)."""
        try:
            return cls(label)
        except ValueError:
            raise ValueError(f"unknown role {label!r}") from None

    @staticmethod
    def highest(roles: "Iterable[Role]") -> "Role":
        """The highest of ``roles`` (at least one)."""
        return max(roles, key=lambda role: role.rank)


@dataclass(frozen=True)
class Identity:
    """A signed-in person: where the identity comes from, who, and their console role."""

    platform: str  # "console" for a login link, "discord" / "slack" for OAuth
    user_id: str  # the platform's user id (a Discord snowflake, a Slack U…)
    display: str
    role: Role = Role.VIEWER  # at sign-in; decisions ask again (:class:`Rights`)
    scope: str = ""  # the guild (Discord) or workspace (Slack T…) signed in from

    @property
    def ref(self) -> str:
        """``platform:user_id``."""
        return f"{self.platform}:{self.user_id}"

    def with_role(self, role: Role) -> "Identity":
        """The same person with another role (after a re-check)."""
        return replace(self, role=role)

    def actor(self) -> Actor:
        """The neutral Actor a decision from the platform's side carries."""
        return Actor(self.platform, self.user_id, self.display, is_moderator=self.role.decides)


LOCAL_ADMIN = Identity(LOCAL, "admin", "local admin", Role.ADMIN)

# asked at decision time: may this identity decide now? (OAuth fills one per platform)
ModeratorCheck = Callable[[Identity], Awaitable[bool]]


class Rights:
    """The decide-time check: the role must decide, and the identity's platform must agree.

    Identities from a platform (Discord, Slack) are asked of that platform's check every time;
    without a check for their platform they may not decide. The console's own identities (the
    login link) rely on their role.
    """

    def __init__(self, checks: Mapping[str, ModeratorCheck] | None = None) -> None:
        self._checks = dict(checks or {})

    def register(self, platform: str, check: ModeratorCheck) -> None:
        """Use ``check`` for identities from ``platform``."""
        self._checks[platform] = check

    async def may_decide(self, who: Identity) -> bool:
        if not who.role.decides:
            return False
        if who.platform == LOCAL:
            return True
        check = self._checks.get(who.platform)
        return check is not None and await check(who)


def sign_in(request: Request, who: Identity) -> None:
    """Start a fresh session for ``who`` (a new CSRF token: nothing carries over)."""
    request.session.clear()
    request.session["who"] = {
        "platform": who.platform,
        "user_id": who.user_id,
        "display": who.display,
        "role": str(who.role),
        "scope": who.scope,
    }
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    """End the session."""
    request.session.clear()


def signed_in(request: HTTPConnection) -> Identity | None:
    """The session's identity, or None (no session, or one this version cannot read)."""
    raw = request.session.get("who")
    if not isinstance(raw, dict):
        return None
    try:
        return Identity(
            str(raw["platform"]),
            str(raw["user_id"]),
            str(raw["display"]),
            Role(raw["role"]),
            str(raw.get("scope", "")),
        )
    except (KeyError, ValueError):
        return None
