"""The few Discord REST calls sign-in and the rights check make (httpx2, no discord.py)."""

from dataclasses import dataclass
from typing import Any

import httpx2

from adapters.console._errors import PlatformUnavailable
from adapters.console._signin_config import DiscordSignIn

# A member lookup answered with these means "not a member" (Unknown Guild / Member, or a
# token that may not see the server), not an outage.
NOT_MEMBER = (403, 404)


@dataclass(frozen=True)
class Member:
    """A member of the served server."""

    user_id: str
    display: str
    roles: frozenset[str]


@dataclass(frozen=True)
class Guild:
    """What role mapping needs of the server: its owner and each role's permissions."""

    owner_id: str
    role_permissions: dict[str, int]


class DiscordApi:
    """Calls under the configured API base, with the user's or the bot's token."""

    def __init__(self, http: httpx2.AsyncClient, config: DiscordSignIn) -> None:
        self._http, self._config = http, config

    async def me(self, access_token: str) -> dict[str, Any]:
        """``GET /users/@me`` with the user's token (scope ``identify``)."""
        return await self._get("users/@me", f"Bearer {access_token}")

    async def my_member(self, access_token: str) -> Member | None:
        """The user's member object in the served server (``guilds.members.read``), or None."""
        path = f"users/@me/guilds/{self._config.guild_id}/member"
        data = await self._find(path, f"Bearer {access_token}")
        return None if data is None else to_member(data)

    async def member(self, user_id: str) -> Member | None:
        """``GET /guilds/{id}/members/{user}`` with the bot token, or None if not a member."""
        path = f"guilds/{self._config.guild_id}/members/{user_id}"
        data = await self._find(path, f"Bot {self._config.bot_token}")
        return None if data is None else to_member(data)

    async def guild(self) -> Guild:
        """The served server's owner and role permissions (bot token)."""
        path = f"guilds/{self._config.guild_id}"
        data = await self._get(path, f"Bot {self._config.bot_token}")
        roles = {str(r["id"]): int(r.get("permissions", 0)) for r in data.get("roles", [])}
        return Guild(str(data.get("owner_id", "")), roles)

    async def _get(self, path: str, authorization: str) -> dict[str, Any]:
        data = await self._find(path, authorization)
        if data is None:
            raise PlatformUnavailable(f"discord: {path.split('/')[0]}: not found or no access")
        return data

    async def _find(self, path: str, authorization: str) -> dict[str, Any] | None:
        try:
            resp = await self._http.get(
                self._config.api(path), headers={"Authorization": authorization}
            )
        except httpx2.HTTPError as exc:
            raise PlatformUnavailable(f"discord: {path.split('/')[0]}: {exc}") from None
        if resp.status_code in NOT_MEMBER:
            return None
        if resp.status_code != 200:
            raise PlatformUnavailable(f"discord: {path.split('/')[0]} answered {resp.status_code}")
        data: dict[str, Any] = resp.json()
        return data


def to_member(data: dict[str, Any]) -> Member:
    """A member payload as a :class:`Member`; the name shown as Discord shows it."""
    user = data.get("user") or {}
    display = data.get("nick") or user.get("global_name") or user.get("username") or "?"
    return Member(str(user.get("id", "")), str(display), frozenset(map(str, data.get("roles", []))))
