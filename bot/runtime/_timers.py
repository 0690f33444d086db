"""Timeouts are deciders: expire pending waits whose ``expires_at`` has passed."""

from bot.review import REVIEW
from bot.runtime._context import Context
from bot.runtime._decide import TIMER_PLATFORM, card_posted_at, expire_in_tx
from bot.store import WaitStatus


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


async def expire_due(ctx: Context, limit: int = 100) -> int:
    """Expire every overdue pending wait (in batches of ``limit``); how many were decided."""
    count = 0
    while True:
        async with ctx.store.read() as tx:
            tokens = await tx.due_waits(ctx.clock.now(), limit)
        batch = 0
        for token in tokens:
            if await expire(ctx, token):
                batch += 1
        count += batch
        if len(tokens) < limit or batch == 0:
            return count


async def next_expiry(ctx: Context) -> float | None:
    """When the earliest pending wait expires."""
    async with ctx.store.read() as tx:
        return await tx.next_expiry()
