"""Injected failures: errors, lost responses and the rate limits Discord sends.

Rate limits follow developers/topics/rate-limits: a 429 carries ``retry_after`` (seconds) in
a JSON body and ``X-RateLimit-Scope`` (``user``, ``global`` or ``shared``); a global one also
``"global": true`` and ``X-RateLimit-Global``. Discord's edge sends ``Via``; Cloudflare's own
429 (an IP ban) is an HTML page without it, which discord.py refuses to retry.
"""

import re
from dataclasses import dataclass, field
from typing import Any


@dataclass
class Fault:
    """The next ``times`` matching calls fail; with ``then="drop"`` they are applied first."""

    method: str
    path: re.Pattern[str]
    times: int
    status: int = 500
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    # respond | drop (apply, then cut the connection) | error (apply, then answer ``status``)
    # | headers (answer normally with ``headers`` added)
    then: str = "respond"
    text: str | None = None  # a non-JSON body (Cloudflare's HTML page)


def rate_limit_429(
    retry_after: float, scope: str = "user"
) -> tuple[dict[str, Any], dict[str, str]]:
    """Body and headers of Discord's 429 for a ``user``, ``shared`` or ``global`` limit."""
    is_global = scope == "global"
    headers = {
        "Via": "1.1 google",
        "Retry-After": str(retry_after),
        "X-RateLimit-Scope": scope,
    }
    if is_global:
        headers["X-RateLimit-Global"] = "true"  # no bucket headers: it is not a route's limit
    else:
        headers |= {
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "fakebucket",
        }
    body = {
        "message": "You are being rate limited.",
        "retry_after": retry_after,
        "global": is_global,
    }
    return body, headers


def exhausted_bucket(reset_after: float) -> dict[str, str]:
    """Headers of a successful answer that used the bucket's last request (Remaining: 0)."""
    return {
        "X-RateLimit-Limit": "5",
        "X-RateLimit-Remaining": "0",
        "X-RateLimit-Reset-After": str(reset_after),
        "X-RateLimit-Bucket": "fakebucket",
        "X-RateLimit-Scope": "user",
    }


CLOUDFLARE_PAGE = (
    "<!DOCTYPE html><html><head><title>Access denied | discord.com used Cloudflare to restrict "
    "access</title></head><body><h1>Error 1015</h1><p>You are being rate limited</p></body></html>"
)


class FaultInjection:
    """Faults a test arms; the server takes the first matching one for each call."""

    def __init__(self) -> None:
        self.faults: list[Fault] = []

    def fail(self, method: str, path: str, *, status: int, times: int = 1, **kw: Any) -> None:
        """Fail the next ``times`` calls matching ``method`` and a path regex."""
        self.faults.append(Fault(method, re.compile(path), times, status, **kw))

    def rate_limit(
        self,
        method: str,
        path: str,
        *,
        retry_after: float = 0.05,
        times: int = 1,
        scope: str = "user",
    ) -> None:
        """A 429 the way Discord sends it (``Via``, scope ``user`` / ``shared`` / ``global``)."""
        body, headers = rate_limit_429(retry_after, scope)
        self.fail(method, path, status=429, times=times, body=body, headers=headers)

    def cloudflare_ban(self, method: str, path: str, *, times: int = 1) -> None:
        """Cloudflare's 429: an HTML page, no ``Via``, no JSON (an IP ban, not an API limit)."""
        self.fail(method, path, status=429, times=times, text=CLOUDFLARE_PAGE)

    def exhaust(self, method: str, path: str, *, reset_after: float, times: int = 1) -> None:
        """Answer normally, but say the bucket is empty for ``reset_after`` seconds."""
        headers = exhausted_bucket(reset_after)
        self.fail(method, path, status=200, times=times, headers=headers, then="headers")

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.path.fullmatch(path):
                fault.times -= 1
                return fault
        return None
