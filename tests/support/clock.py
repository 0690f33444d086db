"""FakeClock: time moves only when a test advances it; sleepers wake when their time comes."""

import asyncio
import heapq
import itertools

START = 1_767_225_600.0  # 2026-01-01 00:00 UTC


class FakeClock:
    """A ``bot.ports.Clock`` for tests.

    ``sleep`` returns only once ``advance`` has moved the clock past its deadline, so loops
    that sleep on the clock can be driven step by step; nothing ever waits for real time.
    """

    def __init__(self, start: float = START) -> None:
        self._now = start
        self._sleepers: list[tuple[float, int, asyncio.Future[None]]] = []
        self._order = itertools.count()
        self.sleeps = 0  # sleep() calls so far that really slept (seconds > 0)

    def now(self) -> float:
        return self._now

    def advance(self, seconds: float) -> None:
        """Move time forward and wake every sleeper whose deadline has come."""
        if seconds < 0:
            raise ValueError("time only moves forward")
        self._now += seconds
        while self._sleepers and self._sleepers[0][0] <= self._now:
            _, _, future = heapq.heappop(self._sleepers)
            if not future.done():
                future.set_result(None)

    async def sleep(self, seconds: float) -> None:
        if seconds <= 0:
            await asyncio.sleep(0)
            return
        self.sleeps += 1
        future: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        heapq.heappush(self._sleepers, (self._now + seconds, next(self._order), future))
        await future  # a cancelled sleeper's future is simply skipped when its time comes

    @property
    def sleepers(self) -> int:
        """How many coroutines are sleeping on this clock right now."""
        return sum(1 for _, _, f in self._sleepers if not f.done())

    def next_deadline(self) -> float | None:
        """The earliest deadline of a live sleeper."""
        live = [d for d, _, f in self._sleepers if not f.done()]
        return min(live) if live else None
