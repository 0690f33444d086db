"""Background loops for ``serve()``: worker, outbox (with card checks), timers; each woken.

Each loop clears its event before looking for work, so work committed while it looks is not
missed; when idle it sleeps on the clock until its next deadline or ``poll_s`` (which also
picks up work committed by another process on the same database). A store that offers
wake-up hints (``Wakeable``: PostgreSQL's LISTEN/NOTIFY) sets the events when another
process commits work, so it is picked up at once; polling stays the backstop.
"""

import asyncio
import contextlib
import functools
import logging
from collections.abc import Awaitable, Callable

from bot.runtime._admission import admit_waiting
from bot.runtime._context import Context
from bot.runtime._outbox import deliver_due, next_due
from bot.runtime._repair import check_cards_if_due
from bot.runtime._runner import execute
from bot.runtime._timers import TIMER_DUTY, sweep
from bot.store import Wakeable
from bot.store.duty import DutyLease

log = logging.getLogger(__name__)


async def idle(ctx: Context, event: asyncio.Event, seconds: float) -> None:
    """Return when ``event`` is set or ``seconds`` have passed on the runtime's clock."""
    if event.is_set():
        return
    waiter = asyncio.ensure_future(event.wait())
    sleeper = asyncio.ensure_future(ctx.clock.sleep(max(0.0, seconds)))
    try:
        await asyncio.wait({waiter, sleeper}, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in (waiter, sleeper):
            task.cancel()
        # Not ``suppress(CancelledError): await task``: that would also swallow a cancel of
        # this loop arriving meanwhile, and the loop would idle on through its shutdown.
        await asyncio.wait({waiter, sleeper})


def _until(ctx: Context, deadline: float | None, poll_s: float) -> float:
    if deadline is None:
        return poll_s
    return min(poll_s, max(0.0, deadline - ctx.clock.now()))


async def timer_loop(ctx: Context, poll_s: float) -> None:
    """While we hold the timers duty, expire overdue waits; sleep until the earliest expiry."""
    duty = DutyLease(ctx.store, TIMER_DUTY, ctx.runner_id, ctx.clock, ctx.lease_s)
    while True:
        ctx.wake.timers.clear()
        await idle(ctx, ctx.wake.timers, _until(ctx, await sweep(ctx, duty), poll_s))


async def outbox_loop(ctx: Context, poll_s: float) -> None:
    """Deliver due effects, check the cards when due; sleep until the next one is due.

    The card check (``bot.runtime._repair``) runs here every ``CARD_CHECK_S`` after boot: it
    catches a client that could not answer at boot and cards deleted while the bot runs.
    """
    while True:
        ctx.wake.outbox.clear()
        if await deliver_due(ctx) or await check_cards_if_due(ctx):
            continue
        due = await next_due(ctx)
        due = ctx.cards_due if due is None else min(due, ctx.cards_due)
        await idle(ctx, ctx.wake.outbox, _until(ctx, due, poll_s))


async def worker_loop(ctx: Context, poll_s: float, concurrency: int) -> None:
    """Execute runnable runs, up to ``concurrency`` at once (an LLM call may take seconds)."""
    active: dict[str, asyncio.Task[bool]] = {}
    try:
        while True:
            ctx.wake.runs.clear()
            await admit_waiting(ctx)  # a scope whose slots freed without a commit of ours
            async with ctx.store.read() as tx:
                ids = await tx.runnable_runs(ctx.runner_id, ctx.clock.now(), concurrency * 2)
            for run_id in ids:
                if run_id not in active and len(active) < concurrency:
                    task = asyncio.create_task(execute(ctx, run_id), name=f"run:{run_id}")
                    active[run_id] = task
                    task.add_done_callback(functools.partial(_finished, ctx, active, run_id))
            await idle(ctx, ctx.wake.runs, poll_s)
    finally:
        for task in active.values():
            task.cancel()
        await asyncio.gather(*active.values(), return_exceptions=True)


def _finished(
    ctx: Context, active: dict[str, asyncio.Task[bool]], run_id: str, task: asyncio.Task[bool]
) -> None:
    active.pop(run_id, None)
    if task.cancelled():
        return
    if task.exception() is not None:
        log.error("run %s: worker task died", run_id, exc_info=task.exception())
    elif task.result():
        ctx.wake.runs.set()  # a slot is free for runs that did not fit


async def hint_loop(ctx: Context, source: Wakeable) -> None:
    """Wake the loops another process committed work for, until the store closes."""
    async with contextlib.aclosing(source.wakeups()) as hints:
        async for loops in hints:
            ctx.wake.hint(loops)


async def guarded(ctx: Context, name: str, loop: Callable[[], Awaitable[None]]) -> None:
    """Run ``loop`` until it returns: an unexpected error is logged, a restart follows in 1 s."""
    while True:
        try:
            await loop()
            return
        except Exception:
            log.exception("%s loop failed; restarting in 1 s", name)
            await ctx.clock.sleep(1.0)
