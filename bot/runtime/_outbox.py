"""Delivering outbox effects: in order per run, with backoff, reconciling before any resend.

An effect is claimed (``claimed_by`` + a claim deadline in ``next_attempt_at``) before it is
touched, so two processes never deliver the same effect at once. ``in_flight`` means "may have
been applied": such an effect is reconciled with the platform before it is sent again, and
becomes ``uncertain`` (with an ALERT) when the platform cannot tell. Never a silent double post.
"""

import logging
from dataclasses import replace

from bot import logs
from bot.errors import CannotReconcile, OutcomeUnknown, SendError
from bot.models import EffectKind, Origin, OutboxEffect, surface_of
from bot.ports import EffectSender
from bot.runtime._context import Context
from bot.runtime._effects import alert_for, audit
from bot.store import EffectStatus, OutboxRow

log = logging.getLogger(__name__)

BASE_BACKOFF_S = 1.0
MAX_BACKOFF_S = 300.0
NO_SENDER_RETRY_S = 30.0  # the platform's adapter may not be connected yet


def backoff(attempts: int, retry_after: float | None = None) -> float:
    """Seconds before the next attempt: 1, 2, 4 ... capped at 5 min, at least ``retry_after``."""
    delay = min(MAX_BACKOFF_S, BASE_BACKOFF_S * 2.0 ** max(0, attempts - 1))
    return max(delay, retry_after or 0.0)


class _Delivery:
    """One attempt at one claimed effect."""

    def __init__(self, ctx: Context, row: OutboxRow, origin: Origin, card_ref: str | None) -> None:
        self.ctx, self.row, self.origin, self.card_ref = ctx, row, origin, card_ref

    def effect(self) -> OutboxEffect:
        row = self.row
        return OutboxEffect(
            effect_id=row.effect_id,
            run_id=row.run_id,
            kind=EffectKind(row.kind),
            origin=self.origin,
            payload=row.payload,
            dedupe_key=row.dedupe_key,
            attempt=max(1, row.attempts),
            card_ref=self.card_ref,
            target=surface_of(row.kind, self.origin, row.payload),
            created_at=row.created_at,
        )

    async def save(self, row: OutboxRow, *events: str, alert: str = "", **data: object) -> bool:
        """Write ``row`` (if our claim still holds) plus an audit row and an optional alert."""
        now = self.ctx.clock.now()
        row.updated_at = now
        extra = []
        if alert and row.kind != EffectKind.ALERT:  # no alert about a failed alert
            extra.append(alert_for(row, alert, now))
        async with self.ctx.store.transaction() as tx:
            if not await tx.update_effect(row, expect_claim=self.ctx.runner_id):
                return False
            await tx.insert_effects(extra)
            audits = [
                audit(
                    row.run_id,
                    now,
                    self.ctx.runner_id,
                    event,
                    effect_id=row.effect_id,
                    kind=row.kind,
                    status=str(row.status),
                    effects=[e.effect_id for e in extra],
                    **data,
                )
                for event in events
            ]
            await tx.add_audit(audits)
        if events:  # only a final state is audited: effect.done / .failed / .uncertain
            self.ctx.telemetry.effect_settled(row.kind, str(row.status))
        self.row = row
        if extra:
            self.ctx.wake.outbox.set()
        return True

    async def done(self, ref: str, how: str) -> None:
        row = replace(self.row, status=EffectStatus.DONE, platform_ref=ref, claimed_by=None)
        await self.save(row, "effect.done", ref=ref, via=how, attempts=row.attempts)

    async def retry_later(self, status: EffectStatus, error: str, after: float | None) -> None:
        delay = backoff(self.row.attempts, after)
        row = replace(
            self.row,
            status=status,
            last_error=error,
            claimed_by=None,
            next_attempt_at=self.ctx.clock.now() + delay,
        )
        await self.save(row)  # transient: no audit row per retry

    async def give_up(self, status: EffectStatus, error: str) -> None:
        row = replace(self.row, status=status, last_error=error, claimed_by=None)
        what = "may have been applied; check by hand" if status == EffectStatus.UNCERTAIN else ""
        text = f"Could not deliver {row.kind} for run {row.run_id}: {error}. {what}".strip()
        await self.save(row, f"effect.{status}", alert=text, error=error)

    async def run(self, sender: EffectSender) -> None:
        if self.row.status == EffectStatus.IN_FLIGHT and not await self.reconciled(sender):
            return
        row = replace(
            self.row,
            status=EffectStatus.IN_FLIGHT,
            attempts=self.row.attempts + 1,
            last_error="",
        )
        if not await self.save(row):
            return
        self.ctx.crash.hit("outbox.before_send", kind=row.kind)
        try:
            ref = await sender.send(self.effect())
        except OutcomeUnknown as exc:
            await self.retry_later(EffectStatus.IN_FLIGHT, f"outcome unknown: {exc}", None)
            return
        except SendError as exc:
            if exc.retryable:
                await self.retry_later(EffectStatus.PENDING, str(exc), exc.retry_after)
            else:
                await self.give_up(EffectStatus.FAILED, str(exc))
            return
        except Exception as exc:
            log.exception("sender raised unexpectedly for %s", row.effect_id)
            await self.retry_later(EffectStatus.IN_FLIGHT, f"unexpected: {exc!r}", None)
            return
        self.ctx.crash.hit("outbox.after_send_before_mark", kind=row.kind)
        await self.done(ref, "send")
        self.ctx.crash.hit("outbox.after_mark", kind=row.kind)

    async def reconciled(self, sender: EffectSender) -> bool:
        """After an unknown outcome: True if the effect must still be sent."""
        try:
            ref = await sender.reconcile(self.effect())
        except CannotReconcile as exc:
            await self.give_up(EffectStatus.UNCERTAIN, f"cannot reconcile: {exc}")
            return False
        except (SendError, OutcomeUnknown) as exc:
            retry_after = exc.retry_after if isinstance(exc, SendError) else None
            await self.retry_later(EffectStatus.IN_FLIGHT, f"reconcile: {exc}", retry_after)
            return False
        except Exception as exc:
            log.exception("reconcile raised unexpectedly for %s", self.row.effect_id)
            await self.retry_later(EffectStatus.IN_FLIGHT, f"reconcile: {exc!r}", None)
            return False
        if ref is not None:
            await self.done(ref, "reconcile")
            return False
        return True


async def deliver(ctx: Context, effect_id: str) -> bool:
    """Claim and try to deliver one effect; False if it was not ours to deliver."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        row = await tx.claim_effect(effect_id, ctx.runner_id, now, now + ctx.lease_s)
        run = None if row is None else await tx.get_run(row.run_id)
        posts = []
        if row is not None and row.kind == EffectKind.REVIEW_UPDATE and row.token:
            posts = await tx.card_effects(row.token)
    if row is None or run is None:
        return False
    origin = Origin.from_json(run.origin)
    card = _card_of(row, origin, posts)
    delivery = _Delivery(ctx, row, origin, None if card is None else card.platform_ref)
    if card is not None and card.status in (EffectStatus.FAILED, EffectStatus.UNCERTAIN):
        # the card never (knowingly) appeared; its own alert already told the moderators
        row = replace(
            row, status=EffectStatus.FAILED, last_error="no card to update", claimed_by=None
        )
        await delivery.save(row, "effect.failed", error="no card to update")
        return True
    if row.kind not in set(EffectKind):
        await delivery.give_up(EffectStatus.FAILED, f"unknown effect kind {row.kind!r}")
        return True
    platform = surface_of(row.kind, origin, row.payload).platform
    sender = ctx.senders.get(platform)
    if sender is None:
        log.warning("no sender for platform %r yet; %s waits", platform, row.effect_id)
        status = EffectStatus(row.status)
        await delivery.retry_later(status, f"no sender for {platform!r}", NO_SENDER_RETRY_S)
        return False
    await delivery.run(sender)
    return True


def _card_of(update: OutboxRow, origin: Origin, posts: list[OutboxRow]) -> OutboxRow | None:
    """The ``review.post`` that put up the card ``update`` edits: the one on its surface."""
    where = surface_of(update.kind, origin, update.payload)
    for post in posts:
        if surface_of(post.kind, origin, post.payload) == where:
            return post
    return None


async def deliver_due(ctx: Context, limit: int = 50, *, in_flight_only: bool = False) -> int:
    """Deliver the effects that are due now (first in their run's order); how many were tried."""
    async with ctx.store.read() as tx:
        rows = await tx.due_effects(ctx.clock.now(), ctx.runner_id, limit)
    count = 0
    for row in rows:
        if in_flight_only and row.status != EffectStatus.IN_FLIGHT:
            continue
        with logs.bound(run_id=row.run_id):
            if await deliver(ctx, row.effect_id):
                count += 1
    return count


async def next_due(ctx: Context) -> float | None:
    """When the next effect becomes deliverable."""
    async with ctx.store.read() as tx:
        return await tx.next_effect_due(ctx.runner_id)
