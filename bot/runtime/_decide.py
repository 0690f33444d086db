"""``decide``: inbox dedupe, authorisation and the compare-and-set on a wait, in one transaction.

Timer expiries go through :func:`close_wait` too, so a click racing the timeout is settled by
the same compare-and-set on ``waits.status = 'pending'``.
"""

import logging
from collections.abc import Mapping, Sequence
from dataclasses import replace
from typing import Any

from bot.models import DecideResult, DecideStatus, DecisionRequest, plain_name, platform_name
from bot.review import MODERATOR_ACTIONS, REVIEW
from bot.runtime import _messages as msg, _transitions as transitions
from bot.runtime._cards import review_updates
from bot.runtime._context import Context
from bot.runtime._effects import SYSTEM, audit
from bot.store import EffectStatus, InboxRow, OutboxRow, RunStatus, Tx, WaitRow, WaitStatus
from flows import Decision

log = logging.getLogger(__name__)

TIMER_ACTOR = "system:timeout"
TIMER_PLATFORM = "system"
ACTOR_NAME = "actor_name"  # in a closed wait's decision JSON: the decider's plain name


def decider_name(wait: WaitRow) -> str:
    """The plain name of whoever closed ``wait`` ("" when unknown: a timer, an older row)."""
    return plain_name(str((wait.decision or {}).get(ACTOR_NAME) or ""))


async def decide(ctx: Context, request: DecisionRequest) -> DecideResult:
    """Record one click; the answer is durable before this returns (ack only afterwards)."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        result, posted = await _decide_in_tx(tx, request, now)
        if result.status != DecideStatus.DUPLICATE:
            await tx.set_inbox_result(
                request.actor.platform, request.interaction_id, str(result.status)
            )
        ctx.crash.hit("decide.in_tx", status=str(result.status))
    ctx.telemetry.decided(request.actor.platform, str(result.status))
    if posted is not None:
        ctx.telemetry.review_closed(request.action, now - posted)
    ctx.crash.hit("decide.after_commit_before_ack", status=str(result.status))
    if result.status in (DecideStatus.APPLIED, DecideStatus.EXPIRED):
        ctx.wake.runs.set()
        ctx.wake.outbox.set()
    return result


async def _decide_in_tx(
    tx: Tx, request: DecisionRequest, now: float
) -> tuple[DecideResult, float | None]:
    """The answer, and when an applied review's first card was posted (for telemetry)."""
    checked = await _decidable(tx, request, now)
    if isinstance(checked, DecideResult):
        return checked, None
    wait = checked
    decision = Decision(request.action, dict(request.data), request.actor.ref)
    display, name = request.actor.display, request.actor.name
    if not name and not display.startswith("<"):  # a plain display (not a platform mention)
        name = display
    posts = await closing(tx, wait, decision, WaitStatus.DECIDED, display, now, name=name)
    if posts is None:
        wait_now = await tx.get_wait(request.token)
        return await _closed_answer(tx, wait_now, request.actor.platform), None
    applied = DecideResult(
        DecideStatus.APPLIED,
        msg.applied(request.action),
        decided_by=request.actor.display,
        decided_at=now,
        decision=request.action,
    )
    return applied, posted_at(posts)


async def _decidable(tx: Tx, request: DecisionRequest, now: float) -> DecideResult | WaitRow:
    """The pending wait this click may decide, or the answer that refuses it."""
    inbox = InboxRow(request.actor.platform, request.interaction_id, request.token, now)
    if not await tx.insert_inbox(inbox):
        return DecideResult(DecideStatus.DUPLICATE, msg.DUPLICATE)
    if not request.actor.is_moderator:
        return DecideResult(DecideStatus.FORBIDDEN, msg.FORBIDDEN)
    wait = await tx.get_wait(request.token)
    if wait is None:
        return DecideResult(DecideStatus.NOT_FOUND, msg.NOT_FOUND)
    if _overdue(wait, now):
        # the timer's decision comes first even if the scheduler has not fired yet
        await expire_in_tx(tx, wait, now)
        wait = await tx.get_wait(request.token)
    if wait is None or wait.status != WaitStatus.PENDING:
        return await _closed_answer(tx, wait, request.actor.platform)
    if request.action not in (allowed := _open_to_people(wait)):
        return DecideResult(DecideStatus.INVALID, msg.not_allowed(request.action, allowed))
    if missing := [k for k in wait.needs.get(request.action, ()) if not _given(request.data, k)]:
        return DecideResult(DecideStatus.INVALID, msg.missing(request.action, missing))
    return wait


async def card_posted_at(tx: Tx, token: str) -> float | None:
    """When the first card of review ``token`` was posted (or queued, if not yet); None: none."""
    return posted_at(await tx.card_effects(token))


def posted_at(cards: Sequence[OutboxRow]) -> float | None:
    """When the first of a review's ``cards`` was posted (or queued, if not yet); None: none."""
    if not cards:
        return None
    posted = [c.updated_at if c.status == EffectStatus.DONE else c.created_at for c in cards]
    return min(posted)


def _open_to_people(wait: WaitRow) -> tuple[str, ...]:
    """The actions a click may decide: a review's timeout comes from its timer only."""
    if wait.kind == REVIEW:
        return tuple(a for a in wait.allowed if a in MODERATOR_ACTIONS)
    return wait.allowed


def _given(data: Mapping[str, Any], key: str) -> bool:
    return bool(str(data.get(key) or "").strip())


def _overdue(wait: WaitRow, now: float) -> bool:
    return (
        wait.status == WaitStatus.PENDING and wait.expires_at is not None and wait.expires_at <= now
    )


async def expire_in_tx(tx: Tx, wait: WaitRow, now: float) -> bool:
    """Close ``wait`` with its timeout action as ``system:timeout``; False if it was not pending."""
    if not await tx.insert_inbox(
        InboxRow(TIMER_PLATFORM, f"timeout:{wait.token}", wait.token, now)
    ):
        return False
    decision = Decision(wait.on_timeout, {}, TIMER_ACTOR)
    done = await close_wait(tx, wait, decision, WaitStatus.EXPIRED, SYSTEM, now)
    await tx.set_inbox_result(
        TIMER_PLATFORM, f"timeout:{wait.token}", "applied" if done else "lost"
    )
    return done


async def close_wait(
    tx: Tx,
    wait: WaitRow,
    decision: Decision,
    status: WaitStatus,
    display: str,
    now: float,
    *,
    name: str = "",
) -> bool:
    """The compare-and-set; on success the run becomes runnable with the decision.

    ``name`` is the decider's plain name for other platforms' cards (``Actor.name``); it is
    kept with the wait's decision (:data:`ACTOR_NAME`) for late clickers and repaired cards.
    """
    return await closing(tx, wait, decision, status, display, now, name=name) is not None


async def closing(
    tx: Tx,
    wait: WaitRow,
    decision: Decision,
    status: WaitStatus,
    display: str,
    now: float,
    *,
    name: str = "",
) -> list[OutboxRow] | None:
    """:func:`close_wait`, returning the wait's card posts as read (None: it was not pending)."""
    closed = replace(
        wait,
        status=status,
        decision=decision.to_json() | ({ACTOR_NAME: name} if name else {}),
        actor=decision.actor,
        actor_display=display,
        decided_at=now,
    )
    if not await tx.close_wait(closed):
        return None
    run = await tx.get_run(wait.run_id)
    if run is None or run.status != RunStatus.WAITING or run.wait_token != wait.token:
        log.error("wait %s closed but run %s is not waiting on it", wait.token, wait.run_id)
        return await tx.card_effects(wait.token)
    resumed = transitions.resume(run, decision.to_json(), wait.token, now)
    seq = resumed.seq
    effects = []
    posts: list[OutboxRow] = []  # only a review wait has cards (``card_effects`` of review.post)
    if wait.kind == REVIEW:
        posts = await tx.card_effects(wait.token)
        effects = review_updates(run, wait, seq, decision, display, now, posts, name=name)
    if not await tx.save_run(resumed, expect_seq=run.seq, expect_runner=None):
        raise RuntimeError(f"run {run.run_id} changed inside a write transaction")
    await tx.insert_effects(effects)
    event = "wait.expired" if status == WaitStatus.EXPIRED else "wait.decided"
    await tx.add_audit(
        [
            audit(
                run.run_id,
                now,
                decision.actor,
                event,
                token=wait.token,
                action=decision.action,
                data=dict(decision.data),
                seq=seq,
                status=str(RunStatus.RESUMING),
                effects=[e.effect_id for e in effects],
            )
        ]
    )
    return posts


async def _closed_answer(tx: Tx, wait: WaitRow | None, clicker_platform: str) -> DecideResult:
    """Tell a late clicker who decided first (and where, if elsewhere), or that it is stale."""
    if wait is None:
        return DecideResult(DecideStatus.NOT_FOUND, msg.NOT_FOUND)
    action = str((wait.decision or {}).get("action", ""))
    by, ts = wait.actor_display or "someone", wait.decided_at
    winner_platform = (wait.actor or "").split(":", 1)[0]
    if winner_platform not in ("", clicker_platform, TIMER_PLATFORM):
        # their own platform's display (a Slack <@U…>) means nothing here: their plain name
        by = f"{decider_name(wait) or 'a moderator'} via {platform_name(winner_platform)}"

    def answer(status: DecideStatus, text: str) -> DecideResult:
        return DecideResult(status, text, decided_by=by, decided_at=ts, decision=action or None)

    if wait.status == WaitStatus.EXPIRED:
        return answer(DecideStatus.EXPIRED, msg.expired(ts))
    if wait.status == WaitStatus.CANCELLED:
        return answer(DecideStatus.STALE, f"{msg.REPLACED}.")
    run = await tx.get_run(wait.run_id)
    if run is None or run.status in (RunStatus.FINISHED, RunStatus.FAILED):
        return answer(DecideStatus.STALE, msg.closed(action, by, ts))
    if run.wait_token != wait.token:
        return answer(DecideStatus.STALE, msg.replaced(action, by, ts))
    return answer(DecideStatus.ALREADY_DECIDED, msg.already(action, by, ts))
