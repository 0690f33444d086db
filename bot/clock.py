"""SystemClock: the real ``bot.ports.Clock`` (wall-clock seconds, asyncio sleep)."""

import asyncio
import time


class SystemClock:
    """Wall-clock time for timers and backoff; tests use a fake clock instead."""

    def now(self) -> float:
        return time.time()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(max(0.0, seconds))
