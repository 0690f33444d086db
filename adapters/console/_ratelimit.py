"""LoginLimiter: at most N sign-in requests per client address in a sliding window."""

import time
from collections import deque
from collections.abc import Callable


class LoginLimiter:
    """Counts sign-in requests per key (the client address) over the last ``window_s``.

    Memory stays bounded: a key's timestamps are dropped once they leave the window, and at
    most ``max_keys`` addresses are tracked (the oldest is forgotten first).
    """

    def __init__(
        self,
        limit: int,
        window_s: float,
        *,
        now: Callable[[], float] = time.monotonic,
        max_keys: int = 10_000,
    ) -> None:
        if limit < 1 or window_s <= 0:
            raise ValueError("limit must be >= 1 and window_s > 0")
        self._limit, self._window_s, self._now = limit, window_s, now
        self._max_keys = max_keys
        self._hits: dict[str, deque[float]] = {}

    def hit(self, key: str) -> float | None:
        """Count one request; None if allowed, else the seconds until the next is allowed."""
        now = self._now()
        hits = self._hits.pop(key, None) or deque()
        while hits and hits[0] <= now - self._window_s:
            hits.popleft()
        self._hits[key] = hits  # re-inserted: the dict's order is least recently seen first
        if len(hits) >= self._limit:
            return hits[0] + self._window_s - now
        hits.append(now)
        if len(self._hits) > self._max_keys:
            del self._hits[next(iter(self._hits))]
        return None
