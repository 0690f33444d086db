"""Who is signed in to the console: a neutral identity with a role, kept in the signed session.

Sign-in paths (the one-time login link here, Discord or Slack OAuth in ``_oauth``) all end in
:func:`sign_in`. A role says what the console shows; the right to decide is asked again at
every decision (:class:`Rights`), from the platform's role or allow-list when the identity
comes from one.
"""

import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum

from starlette.requests import Request

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


@dataclass(frozen=True)
class Identity:
    """A signed-in person: where the identity comes from, who, and their console role."""

    platform: str  # "console" for a login link, "discord" / "slack" for OAuth
    user_id: str
    display: str
    role: Role

    @property
    def ref(self) -> str:
        """``platform:user_id``."""
        return f"{self.platform}:{self.user_id}"


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
    }
    request.session["csrf"] = secrets.token_urlsafe(32)


def sign_out(request: Request) -> None:
    """End the session."""
    request.session.clear()


def signed_in(request: Request) -> Identity | None:
    """The session's identity, or None (no session, or one this version cannot read)."""
    raw = request.session.get("who")
    if not isinstance(raw, dict):
        return None
    try:
        return Identity(
            str(raw["platform"]), str(raw["user_id"]), str(raw["display"]), Role(raw["role"])
        )
    except (KeyError, ValueError):
        return None
