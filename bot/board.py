"""Board: the console's read model (``bot.ports.ReviewBoard``) over the store and the audit feed.

Queue filters on the wait's status and age run in SQL, and so does the limit when nothing else
narrows the view; platform, queue (scope) and the text search run here over the rows read (the
newest ``SCAN``), so both stores share them.
"""

from collections.abc import AsyncIterator, Mapping
from typing import Any

from bot.feed import AuditFeed, event_of
from bot.models import (
    AuditEvent,
    CardCopy,
    Origin,
    QueueFilter,
    QueueItem,
    ReviewRecord,
    RouteInfo,
    RunDetail,
    Surface,
    plain_name,
)
from bot.ports import Clock
from bot.review import REVIEW
from bot.store import OutboxRow, ReviewRow, Store, WaitRow, WaitStatus

SCAN = 20_000  # rows read for one queue page before filtering by platform, scope and text
CARD_KINDS = ("review.post", "review.update")


def queue_item(row: ReviewRow) -> QueueItem:
    """A review row as a queue entry."""
    wait, origin = row.wait, row.origin
    card: Mapping[str, Any] = wait.payload
    decision = wait.decision or {}
    return QueueItem(
        token=wait.token,
        run_id=wait.run_id,
        status=str(wait.status),
        topic=str(card.get("topic", "")),
        draft=str(card.get("draft", "")),
        attempt=int(card.get("attempt", 0)),
        max_attempts=int(card.get("max_attempts", 0)),
        requester=str(card.get("requester_name") or card.get("requester", "")),
        platform=str(origin.get("platform", "")),
        scope=str(origin.get("scope", "")),
        opened_at=wait.created_at,
        activity_at=wait.decided_at or wait.created_at,
        decided_by=decider(wait),
        decided_via=_platform_of(wait.actor or ""),
        decision=str(decision.get("action", "")),
        allowed=wait.allowed,
    )


def _platform_of(actor: str) -> str:
    """The platform part of ``platform:user_id``; "" for nobody and for the system's timeouts."""
    platform, sep, _ = actor.partition(":")
    return platform if sep and platform != "system" else ""


def matches(item: QueueItem, where: QueueFilter) -> bool:
    """Whether ``item`` passes the platform, queue and text parts of ``where``."""
    if where.platform and item.platform != where.platform:
        return False
    if where.queue and item.scope != where.queue:
        return False
    needle = where.search.strip().casefold()
    return not needle or any(
        needle in text.casefold() for text in (item.topic, item.draft, item.requester)
    )


class Board:
    """The console's reads; ``feed`` must be running (``async with feed.running()``)."""

    def __init__(self, store: Store, clock: Clock, feed: AuditFeed) -> None:
        self._store, self._clock, self._feed = store, clock, feed

    async def queue(self, where: QueueFilter) -> list[QueueItem]:
        status = WaitStatus(where.status) if where.status else WaitStatus.PENDING
        since = 0.0 if where.max_age_s is None else self._clock.now() - where.max_age_s
        narrowed = bool(where.platform or where.queue or where.search.strip())
        async with self._store.read() as tx:  # unfiltered: the database keeps only the top rows
            rows = await tx.reviews(status, since, SCAN if narrowed else where.limit)
        items = (queue_item(r) for r in rows)
        return [i for i in items if matches(i, where)][: where.limit]

    async def review(self, token: str) -> QueueItem | None:
        async with self._store.read() as tx:
            wait = await tx.get_wait(token)
            run = None if wait is None else await tx.get_run(wait.run_id)
        if wait is None or run is None or wait.kind != REVIEW:
            return None
        return queue_item(ReviewRow(wait, run.origin, run.status))

    async def run(self, run_id: str) -> RunDetail | None:
        async with self._store.read() as tx:
            run = await tx.get_run(run_id)
            if run is None:
                return None
            waits = await tx.run_waits(run_id)
            effects = await tx.run_effects(run_id)
            audit = await tx.audit(run_id)
        origin = Origin.from_json(run.origin)
        return RunDetail(
            run_id=run.run_id,
            status=str(run.status),
            origin=origin,
            created_at=run.created_at,
            updated_at=run.updated_at,
            error=run.error,
            reviews=tuple(review_record(w, effects, origin) for w in waits if w.kind == REVIEW),
            audit=tuple(event_of(a) for a in audit),
        )

    async def routes(self) -> list[RouteInfo]:
        async with self._store.read() as tx:
            rows = await tx.all_routes()
        return [RouteInfo(platform, scope, surface) for platform, scope, surface in rows]

    def last_seq(self) -> int:
        return self._feed.frontier

    async def events_since(self, seq: int, limit: int) -> list[AuditEvent]:
        return await self._feed.events_since(seq, limit)

    def follow(self, after: int) -> AsyncIterator[AuditEvent]:
        return self._feed.follow(after)

    def follow_batches(self, after: int) -> AsyncIterator[list[AuditEvent]]:
        return self._feed.follow_batches(after)


def review_record(wait: WaitRow, effects: list[OutboxRow], origin: Origin) -> ReviewRecord:
    """One review wait of a run with the cards posted and updated for it."""
    decision = wait.decision or {}
    cards = tuple(
        CardCopy(
            surface=_surface(e, origin),
            kind=e.kind,
            status=str(e.status),
            ref=e.platform_ref or "",
            at=e.updated_at or e.created_at,
        )
        for e in effects
        if e.token == wait.token and e.kind in CARD_KINDS
    )
    return ReviewRecord(
        token=wait.token,
        status=str(wait.status),
        card=wait.payload,
        opened_at=wait.created_at,
        decided_at=wait.decided_at,
        decided_by=decider(wait),
        actor=wait.actor or "",
        decision=str(decision.get("action", "")),
        data=dict(decision.get("data", {})),
        cards=cards,
    )


def _surface(effect: OutboxRow, origin: Origin) -> Surface:
    where = effect.payload.get("surface")
    return Surface.from_json(where) if where else origin.reviews[0]


def decider(wait: WaitRow) -> str:
    """Who closed ``wait`` as a page shows them: their plain name, else the platform's display.

    A Slack display is a ``<@U…>`` mention, which means nothing in a browser.
    """
    name = plain_name(str((wait.decision or {}).get("actor_name") or ""))
    return name or wait.actor_display or ""
