"""Queues: which surfaces review a scope's requests, and linking a surface on another platform.

A scope (a Discord guild, a Slack workspace) reviews on its own moderator channel; *routes* add
surfaces on any platform. A route is made with a link code: shown on one platform (for the
scope whose reviews should move), typed on the other (in the channel that should review them).
Codes are random, single-use and expire after :data:`CODE_TTL_S`.
"""

import secrets

from bot.errors import BadRequest
from bot.models import LinkCode, Origin, Surface, platform_name
from bot.ports import Clock
from bot.store import Store

CODE_TTL_S = 600.0
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"  # no 0/O, 1/I: read aloud and retyped


def new_code() -> str:
    """``ABCD-EFGH``: 40 random bits from an alphabet without look-alikes."""
    raw = "".join(secrets.choice(_ALPHABET) for _ in range(8))
    return f"{raw[:4]}-{raw[4:]}"


def normalise(code: str) -> str:
    """A code as typed (any case, spaces, with or without the dash) in its stored form."""
    raw = "".join(c for c in code.upper() if c.isalnum())
    return f"{raw[:4]}-{raw[4:]}" if len(raw) == 8 else raw


class Queues:
    """Reads and changes the routes of scopes, over the store."""

    def __init__(self, store: Store, clock: Clock) -> None:
        self._store, self._clock = store, clock

    async def surfaces(self, origin: Origin) -> tuple[Surface, ...]:
        """``origin``'s review surfaces: its own moderator channel, then its routes."""
        async with self._store.read() as tx:
            routes = await tx.routes(origin.platform, origin.scope)
        if not routes:
            return ()  # the default: Origin.reviews is the origin's own moderator channel
        own = Surface(origin.platform, origin.mod_channel)
        return tuple(dict.fromkeys([own, *routes]))

    async def code_for(self, platform: str, scope: str) -> LinkCode:
        """A fresh code that routes ``platform``/``scope``'s reviews to where it is typed."""
        code, expires = new_code(), self._clock.now() + CODE_TTL_S
        async with self._store.transaction() as tx:
            await tx.add_link_code(code, platform, scope, expires)
        return LinkCode(code, expires)

    async def link(self, code: str, surface: Surface) -> str:
        """Use ``code`` on ``surface``: that scope's reviews now also appear there.

        Raises:
            BadRequest: the code is unknown, used or expired, or names the surface's own scope.
        """
        now = self._clock.now()
        async with self._store.transaction() as tx:
            found = await tx.take_link_code(normalise(code), now)
            if found is None:
                raise BadRequest(
                    "That link code is unknown, already used or expired; ask for a new one."
                )
            platform, scope = found
            added = await tx.add_route(platform, scope, surface, now)
        where = f"{platform_name(platform)} ({scope})"
        if not added:
            return f"This channel already reviews the jokes requested on {where}."
        return f"Linked: jokes requested on {where} are now reviewed in this channel too."

    async def unlink(self, platform: str, scope: str, surface: Surface) -> bool:
        """Stop reviewing ``platform``/``scope``'s requests on ``surface``; False if it did not."""
        async with self._store.transaction() as tx:
            return await tx.remove_route(platform, scope, surface)
