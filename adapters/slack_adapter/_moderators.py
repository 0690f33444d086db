"""Who may decide: configured user ids, plus members of a user group (cached briefly)."""

import asyncio
import logging
import time
from collections.abc import Callable, Iterable

import aiohttp
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

log = logging.getLogger(__name__)


class Moderators:
    """Answers "is this Slack user a moderator?" for the runtime's ``Actor.is_moderator``.

    Group membership comes from ``usergroups.users.list`` and is cached for ``ttl_s``; when
    the lookup fails the cached list (or nobody) is used: fail closed, never open.
    """

    def __init__(
        self,
        client: AsyncWebClient,
        user_ids: Iterable[str],
        group_id: str = "",
        *,
        ttl_s: float = 60.0,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self._client = client
        self._user_ids = frozenset(u for u in user_ids if u)
        self._group_id = group_id
        self._ttl_s = ttl_s
        self._monotonic = monotonic
        self._members: frozenset[str] = frozenset()
        self._fetched_at: float | None = None
        self._lock = asyncio.Lock()
        self._lookups: set[asyncio.Task[bool]] = set()

    def known(self, user_id: str) -> bool | None:
        """The answer without any network call, or None when the group must be looked up."""
        if user_id in self._user_ids:
            return True
        if not self._group_id:
            return False
        if self._fetched_at is None or self._monotonic() - self._fetched_at > self._ttl_s:
            return None
        return user_id in self._members

    async def check(self, user_id: str) -> bool:
        """The answer, refreshing the group's member list when it is stale."""
        answer = self.known(user_id)
        if answer is not None:
            return answer
        async with self._lock:  # one lookup at a time, the others reuse its result
            if self.known(user_id) is None:
                await self._refresh()
        return user_id in self._user_ids or user_id in self._members

    async def check_within(self, user_id: str, timeout_s: float) -> bool | None:
        """The answer if it comes within ``timeout_s``, else None (the lookup carries on)."""
        task = asyncio.ensure_future(self.check(user_id))
        done, _ = await asyncio.wait({task}, timeout=timeout_s)
        if done:
            return task.result()
        self._lookups.add(task)  # keep it alive: it fills the cache for the next click
        task.add_done_callback(self._lookups.discard)
        return None

    async def _refresh(self) -> None:
        try:
            resp = await self._client.usergroups_users_list(usergroup=self._group_id)
            users = resp.get("users") or []
            self._members = frozenset(str(u) for u in users)
        except (TimeoutError, SlackApiError, aiohttp.ClientError, OSError) as exc:
            log.warning("slack: cannot list moderator group %s: %s", self._group_id, exc)
        # Also after a failure: do not hammer the API on every click.
        self._fetched_at = self._monotonic()
