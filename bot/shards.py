"""Holding shards: run one client for exactly the shards this process leases, and no longer.

:func:`hold_shards` refreshes the leases (``bot.store.shards``) when they are due and keeps one
``serve(shards)`` task running for the set held. discord.py cannot change a client's
``shard_ids`` while it runs, so when the set changes the task is stopped (its client closed)
and a new one started for the new set. The task is also stopped at the leases' deadline when
renewals keep failing, and before the leases are given up on the way out.
"""

import asyncio
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from bot.errors import LeaseLost
from bot.ports import Clock
from bot.store.shards import ShardLeases

log = logging.getLogger(__name__)

Serve = Callable[[frozenset[int]], Coroutine[Any, Any, None]]


async def hold_shards(leases: ShardLeases, serve: Serve, clock: Clock) -> None:
    """Serve the shards we hold until cancelled; a serve task's own error ends it too.

    A task that stops with :class:`bot.errors.LeaseLost` (its fence refused a reconnect) is
    not an error: the leases are refreshed and a client started for what we still hold.
    """
    task: asyncio.Task[None] | None = None
    running: frozenset[int] = frozenset()
    try:
        while True:
            held = await leases.refresh()
            ended = task is not None and task.done()  # by itself: start again at the next check
            if task is not None and (held != running or ended):
                old, task = task, None
                await _stop(old)
            if task is None and held and not ended:
                log.info("discord shards: connecting %s of %d", sorted(held), leases.count)
                task = asyncio.create_task(serve(held), name=f"shards-{sorted(held)}")
            running = held if task is not None else frozenset()
            await _until(clock, leases.next_check(), task)
    finally:
        try:
            if task is not None:
                await _stop(task)  # closed before the leases are given up: never two
        finally:
            await leases.release()


async def _stop(task: asyncio.Task[None]) -> None:
    """Stop a serve task and wait until its client is closed; re-raise its own error."""
    task.cancel()
    try:
        await task
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if not task.cancelled() or (current is not None and current.cancelling()):
            raise  # we were cancelled ourselves while waiting
    except LeaseLost as exc:
        log.warning("discord shards: %s", exc)


async def _until(clock: Clock, when: float, task: asyncio.Task[None] | None) -> None:
    """Sleep on the clock until ``when``, or until the serve task ends, whichever is first."""
    sleeper = asyncio.ensure_future(clock.sleep(when - clock.now()))
    waiting: set[asyncio.Future[None]] = {sleeper} if task is None else {sleeper, task}
    try:
        await asyncio.wait(waiting, return_when=asyncio.FIRST_COMPLETED)
    finally:
        sleeper.cancel()
