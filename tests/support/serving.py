"""Running a runtime's background loops in a test: ``serving(runtime)`` and ``until(...)``."""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable

from bot.runtime import Runtime
from tests.support.db import Target, rows


async def until(condition: Callable[[], object], *, seconds: float = 10.0) -> None:
    """Let background tasks run until ``condition()`` holds; fail after ``seconds``.

    Bounded real time: the loops run on real database connections and threads.
    """
    for _ in range(int(seconds / 0.01)):
        if condition():
            return
        await asyncio.sleep(0.01)
    raise AssertionError("condition never became true")


@contextlib.asynccontextmanager
async def serving(runtime: Runtime) -> AsyncIterator[asyncio.Task[None]]:
    """``runtime.serve()`` in the background for the block; cancelled and awaited afterwards."""
    task = asyncio.create_task(runtime.serve(), name="serve")
    try:
        yield task
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def delivered(target: Target) -> bool:
    """No effect in ``target``'s outbox is pending or in flight (each one was marked done)."""
    sql = "SELECT COUNT(*) AS n FROM outbox WHERE status IN ('pending', 'in_flight')"
    return int(rows(target, sql)[0]["n"]) == 0
