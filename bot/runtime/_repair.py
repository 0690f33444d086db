"""Boot check of the review cards: re-post deleted cards, bring closed cards up to date.

For each pending review (oldest first, at most ``limit`` a boot) every live posted copy is
looked up with the sender's ``exists``: a copy the platform says is gone gets a re-post (a new
``review.post`` with the same token, so either copy's buttons work). For each closed review
whose cards have no update, or a failed one (most recently decided first, at most ``limit``),
every posted copy without a working update gets a new one, unless its message is gone.
Every insert is audited; "cannot tell" (None) leaves things as they are.
"""

import logging
from collections.abc import Awaitable

from bot.models import Origin, surface_of
from bot.ports import EffectSender
from bot.runtime._cards import card_of, live_posts, posted_card, repost_row, update_row
from bot.runtime._context import Context
from bot.runtime._decide import decider_name
from bot.runtime._effects import audit
from bot.store import EffectStatus, OutboxRow, RunRow, WaitRow, WaitStatus
from flows import Decision

log = logging.getLogger(__name__)

BOOT_CARD_CHECKS = 200  # reviews checked per boot, each way (each costs a lookup per card)
CARD_CHECK_S = 600.0  # after boot, the cards are checked again this often (serve and drain)
UPDATE_N = 3000  # boot updates sort after every effect of the run's current step


async def check_cards_if_due(ctx: Context) -> int:
    """Run :func:`repair_cards` if ``CARD_CHECK_S`` passed since the last check; rows added.

    Catches a platform whose client could not answer at boot (Discord before login: "cannot
    tell") and cards deleted while the bot runs.
    """
    if ctx.clock.now() < ctx.cards_due:
        return 0
    return sum(await repair_cards(ctx))


async def repair_cards(ctx: Context, limit: int = BOOT_CARD_CHECKS) -> tuple[int, int]:
    """Re-post deleted cards of pending reviews, update stale closed ones; ``(posts, updates)``."""
    ctx.cards_due = ctx.clock.now() + CARD_CHECK_S
    async with ctx.store.read() as tx:
        pending = await tx.pending_reviews(limit)
        closed = await tx.closed_reviews_to_update(limit)
    reposted = updated = 0
    for wait in pending:
        reposted += await _guarded(_repost_gone(ctx, wait), wait)
    for wait in closed:
        updated += await _guarded(_update_stale(ctx, wait), wait)
    if reposted or updated:
        ctx.wake.outbox.set()
    return reposted, updated


async def _guarded(work: Awaitable[int], wait: WaitRow) -> int:
    """One wait's repair; a failure (another process inserted the same row) skips it."""
    try:
        return await work
    except Exception:
        log.warning(
            "card check of review %s failed; the next check retries", wait.token, exc_info=True
        )
        return 0


async def _load(
    ctx: Context, wait: WaitRow
) -> tuple[RunRow | None, list[OutboxRow], list[OutboxRow]]:
    async with ctx.store.read() as tx:
        run = await tx.get_run(wait.run_id)
        return run, await tx.card_effects(wait.token), await tx.card_updates(wait.token)


async def _there(ctx: Context, post: OutboxRow, origin: Origin) -> bool | None:
    """Whether the card ``post`` put up still exists; None: no sender, or it cannot tell."""
    sender: EffectSender | None = ctx.senders.get(
        surface_of(post.kind, origin, post.payload).platform
    )
    if sender is None or not post.platform_ref:
        return None
    try:
        return await sender.exists(posted_card(post, origin))
    except Exception:
        log.exception("exists() raised for %s; leaving the card as it is", post.effect_id)
        return None


async def _repost_gone(ctx: Context, wait: WaitRow) -> int:
    run, posts, _ = await _load(ctx, wait)
    if run is None:
        return 0
    origin = Origin.from_json(run.origin)
    shown = [p for p in live_posts(posts) if p.status == EffectStatus.DONE]
    gone = [p for p in shown if await _there(ctx, p, origin) is False]
    if not gone:
        return 0
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        current = await tx.get_wait(wait.token)
        if current is None or current.status != WaitStatus.PENDING:
            return 0  # decided meanwhile: its updates cover the cards it knew
        known = {p.effect_id for p in await tx.card_effects(wait.token)}
        rows = [r for r in (repost_row(p, now) for p in gone) if r.effect_id not in known]
        await tx.insert_effects(rows)
        event = audit(
            run.run_id,
            now,
            ctx.runner_id,
            "card.reposted",
            token=wait.token,
            replaces=[p.effect_id for p in gone],
            effects=[r.effect_id for r in rows],
        )
        await tx.add_audit([event])
    log.info("re-posting %d deleted card(s) of review %s", len(rows), wait.token)
    return len(rows)


async def _update_stale(ctx: Context, wait: WaitRow) -> int:
    run, posts, updates = await _load(ctx, wait)
    if run is None or wait.decision is None:
        return 0
    origin = Origin.from_json(run.origin)
    covered = {
        c.effect_id
        for u in updates
        if u.status != EffectStatus.FAILED
        if (c := card_of(u, origin, posts))
    }
    failed = {
        c.effect_id
        for u in updates
        if u.status == EffectStatus.FAILED
        if (c := card_of(u, origin, posts))
    }
    todo = []
    for post in live_posts(posts):
        if post.status != EffectStatus.DONE or post.effect_id in covered:
            continue
        there = await _there(ctx, post, origin)
        if there is False or (post.effect_id in failed and there is not True):
            continue  # gone (nothing to update), or its update failed and we cannot tell why
        todo.append(post)
    if not todo:
        return 0
    now = ctx.clock.now()
    decision = Decision.from_json(wait.decision)
    display = wait.actor_display or decision.actor
    known = {u.effect_id for u in updates}
    rows = []
    for i, post in enumerate(todo):
        tries = sum(1 for u in known if u.startswith(f"{post.effect_id}:update"))
        surface = surface_of(post.kind, origin, post.payload)
        order = (run.seq, UPDATE_N + len(updates) + i)
        eid = f"{post.effect_id}:update{tries + 1}"
        rows.append(
            update_row(
                run,
                wait,
                surface,
                decision,
                display,
                order,
                now,
                post.effect_id,
                eid,
                name=decider_name(wait),
            )
        )
    async with ctx.store.transaction() as tx:
        if {u.effect_id for u in await tx.card_updates(wait.token)} != known:
            return 0  # another process is at it; the next boot looks again
        await tx.insert_effects(rows)
        event = audit(
            run.run_id,
            now,
            ctx.runner_id,
            "card.refreshed",
            token=wait.token,
            cards=[p.effect_id for p in todo],
            effects=[r.effect_id for r in rows],
        )
        await tx.add_audit([event])
    log.info("updating %d card(s) of closed review %s", len(rows), wait.token)
    return len(rows)
