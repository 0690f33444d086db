"""Timeouts are deciders: expire pending waits whose ``expires_at`` has passed.

The background sweep is a singleton duty (``timers``, see ``bot.store.duty``): of several
processes on one database, only the one holding the duty's lease sweeps. Every expiry is a
compare-and-set on its wait, so a sweep that overlaps another one (a lease lost mid-sweep)
still decides each wait once. Boot catch-up and ``drain()`` expire regardless of the duty.
"""

from bot.review import REVIEW
from bot.runtime._context import Context
from bot.runtime._decide import TIMER_PLATFORM, card_posted_at, expire_in_tx
from bot.store import WaitStatus
from bot.store.duty import DutyLease

TIMER_DUTY = "timers"


async def expire(ctx: Context, token: str) -> bool:
    """Decide wait ``token`` with its timeout action if it is still pending and overdue."""
    ctx.crash.hit("timer.before_decide", token=token)
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        wait = await tx.get_wait(token)
        if wait is None or wait.status != WaitStatus.PENDING:
            return False
        if wait.expires_at is None or wait.expires_at > now:
            return False
        done = await expire_in_tx(tx, wait, now)
        posted = await card_posted_at(tx, token) if done and wait.kind == REVIEW else None
    if posted is not None:
        ctx.telemetry.decided(TIMER_PLATFORM, "applied")
        ctx.telemetry.review_closed(wait.on_timeout, now - posted)
    if done:
        ctx.wake.runs.set()
        ctx.wake.outbox.set()
    return done


async def expire_due(ctx: Context, limit: int = 100, *, until: float | None = None) -> int:
    """Expire every overdue pending wait (in batches of ``limit``); how many were decided.

    With ``until`` (the end of our duty lease), stop once the clock reaches it.
    """
    count = 0
    while True:
        async with ctx.store.read() as tx:
            tokens = await tx.due_waits(ctx.clock.now(), limit)
        batch = 0
        for token in tokens:
            if until is not None and ctx.clock.now() >= until:
                return count + batch
            if await expire(ctx, token):
                batch += 1
        count += batch
        if len(tokens) < limit or batch == 0:
            return count


async def next_expiry(ctx: Context) -> float | None:
    """When the earliest pending wait expires."""
    async with ctx.store.read() as tx:
        return await tx.next_expiry()


async def sweep(ctx: Context, duty: DutyLease) -> float:
    """Expire overdue waits if we hold the timers duty; when to sweep (or ask for it) again."""
    if not await duty.hold():
        return duty.next_check()
    await expire_due(ctx, until=duty.until)
    expiry = await next_expiry(ctx)
    return duty.next_check() if expiry is None else min(expiry, duty.next_check())
