"""The fake's record of REST calls, and waiting for one to arrive."""

import asyncio
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Call:
    """One REST call as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


class CallLog:
    """Every REST call the fake answered, in order."""

    def __init__(self) -> None:
        self.calls: list[Call] = []
        self._changed = asyncio.Condition()

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def wait_for_call(
        self, pred: Callable[[Call], bool], *, since: int = 0, timeout: float = 5.0
    ) -> Call:
        """The first call at index >= ``since`` matching ``pred``, waiting for it if needed."""

        def found() -> Call | None:
            return next((c for c in self.calls[since:] if pred(c)), None)

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        call = found()
        assert call is not None
        return call

    async def wait_for_path(
        self, method: str, pattern: str, *, since: int = 0, timeout: float = 5.0
    ) -> Call:
        """The first call at index >= ``since`` with this method and a path matching a regex."""
        rx = re.compile(pattern)
        return await self.wait_for_call(
            lambda c: c.method == method and rx.fullmatch(c.path) is not None,
            since=since,
            timeout=timeout,
        )

    def calls_to(self, method: str, pattern: str, *, since: int = 0) -> list[Call]:
        """Recorded calls with this method whose path fully matches a regex."""
        rx = re.compile(pattern)
        return [c for c in self.calls[since:] if c.method == method and rx.fullmatch(c.path)]
