"""The few Slack Web API calls the rights check makes (httpx2, no slack_sdk)."""

from dataclasses import dataclass
from typing import Any

import httpx2

from adapters.console._errors import PlatformUnavailable
from adapters.console._signin_config import SlackSignIn

# users.info answers these when the user is not (or no longer) visible to the bot.
NO_SUCH_USER = ("user_not_found", "user_not_visible", "account_inactive")


@dataclass(frozen=True)
class SlackUser:
    """What the rights check needs of a Slack account."""

    user_id: str
    team_id: str
    deleted: bool


class SlackApi:
    """Web API calls with the bot token under the configured API base."""

    def __init__(self, http: httpx2.AsyncClient, config: SlackSignIn) -> None:
        self._http, self._config = http, config

    async def user(self, user_id: str) -> SlackUser | None:
        """``users.info``: the account, or None when Slack knows no such user."""
        data = await self._call("users.info", {"user": user_id}, missing=NO_SUCH_USER)
        if not data.get("ok"):
            return None
        user = data.get("user") or {}
        return SlackUser(
            str(user.get("id", "")), str(user.get("team_id", "")), bool(user.get("deleted"))
        )

    async def group_members(self, group_id: str) -> frozenset[str]:
        """``usergroups.users.list``: the user ids in the group."""
        data = await self._call("usergroups.users.list", {"usergroup": group_id})
        return frozenset(str(u) for u in data.get("users") or [])

    async def _call(
        self, method: str, params: dict[str, str], *, missing: tuple[str, ...] = ()
    ) -> dict[str, Any]:
        try:
            resp = await self._http.post(
                self._config.api(method),
                data=params,
                headers={"Authorization": f"Bearer {self._config.bot_token}"},
            )
        except httpx2.HTTPError as exc:
            raise PlatformUnavailable(f"slack: {method}: {exc}") from None
        if resp.status_code != 200:
            raise PlatformUnavailable(f"slack: {method} answered HTTP {resp.status_code}")
        data: dict[str, Any] = resp.json()
        if data.get("ok") or data.get("error") in missing:
            return data
        raise PlatformUnavailable(f"slack: {method}: {data.get('error', 'not ok')}")
