"""AuditFeed: the audit log as one live, gap-free stream for every console page in a process.

One tail task reads the rows committed after its *frontier* (the greatest id it has passed on)
whenever the store's bell rings (this process committed audit rows) or every ``poll_s``
(another process did), and hands them to every follower. A follower first replays from the
store what it missed (``after`` up to the frontier), then takes the live rows; seq numbers
dedupe the overlap. A follower that falls ``buffer`` rows behind replays from the store again
instead of holding memory, so nothing is lost and nothing is doubled.

Ids are allocated at INSERT but become visible at COMMIT: on PostgreSQL two writers can
commit out of id order, so a row may appear *behind* one already seen. The tail therefore
passes on only a gap-free run of ids; a gap is waited for up to ``gap_grace_s`` (a rolled-back
insert leaves a gap for ever) and then skipped. SQLite commits one writer at a time, in order.
"""

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Coroutine
from contextlib import asynccontextmanager
from typing import Any

from bot.models import AuditEvent
from bot.ports import Clock
from bot.store import AuditRow, Ringing, Store

log = logging.getLogger(__name__)

POLL_S = 1.0  # how soon another process's commit is seen
GAP_GRACE_S = 2.0
COALESCE_S = 0.01  # at most one read of the log per this much real time (see _tail)
PAGE = 500


def event_of(row: AuditRow) -> AuditEvent:
    """An audit row as a streamed event."""
    return AuditEvent(row.id or 0, row.run_id, row.at, row.actor, row.event, row.data)


class _Follower:
    def __init__(self) -> None:
        self.events: deque[AuditEvent] = deque()
        self.wake = asyncio.Event()
        self.behind = False  # the buffer overflowed: replay from the store
        self.ended = False  # told to stop (the server shuts down)


class AuditFeed:
    """Tails the audit log of ``store`` and fans it out to followers (see the module doc)."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        poll_s: float = POLL_S,
        gap_grace_s: float = GAP_GRACE_S,
        buffer: int = 10_000,
        coalesce_s: float = COALESCE_S,
    ) -> None:
        self._store, self._clock = store, clock
        self._coalesce_s = coalesce_s
        self._poll_s, self._gap_grace_s, self._buffer = poll_s, gap_grace_s, buffer
        self._followers: set[_Follower] = set()
        self._gap_since: float | None = None
        self.frontier = 0
        self.closed = False
        self.overflows = 0  # followers that fell behind and replayed from the store

    @asynccontextmanager
    async def running(self) -> AsyncIterator["AuditFeed"]:
        """Tail in the background while the block runs; followers end when it exits."""
        async with self._store.read() as tx:
            self.frontier = await tx.last_audit_id()
        task = asyncio.create_task(self._tail(), name="audit-feed")
        try:
            yield self
        finally:
            self.stop()
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def stop(self) -> None:
        """Stop for good: every follower ends now, and any later one at once."""
        self.closed = True
        self.end_followers()

    def end_followers(self) -> None:
        """End the current followers (their streams close; browsers reconnect later)."""
        for follower in self._followers:
            follower.ended = True
            follower.wake.set()

    async def _tail(self) -> None:
        bell = self._store.bell if isinstance(self._store, Ringing) else None
        loop = asyncio.get_running_loop()
        read_at = -self._coalesce_s
        while True:
            # commits come in bursts (a decision is several): one read and one write per page
            # for a burst instead of one per commit, for a few ms of latency at most
            if (wait := read_at + self._coalesce_s - loop.time()) > 0:
                await asyncio.sleep(wait)
            read_at = loop.time()
            rings = bell.rings if bell is not None else 0
            try:
                more = await self._advance()
            except Exception:
                log.exception("audit feed: reading the log failed; retrying")
                more = False
            if more or (bell is not None and bell.rings != rings):
                continue  # a full page, or a commit while we read: read again at once
            pause = self._poll_s if self._gap_since is None else min(self._poll_s, 0.1)
            await _first(self._clock.sleep(pause), bell.wait(rings) if bell is not None else None)

    async def _advance(self) -> bool:
        """Pass on the committed rows after the frontier; True if there may be more."""
        async with self._store.read() as tx:
            rows = await tx.audit_since(self.frontier, PAGE)
        passed: list[AuditEvent] = []
        for row in rows:
            seq = row.id or 0
            if seq != self.frontier + 1 and not self._gap_expired():
                break
            self.frontier, self._gap_since = seq, None
            passed.append(event_of(row))
        self._fan_out(passed)
        return len(rows) == PAGE and len(passed) == len(rows)

    def _gap_expired(self) -> bool:
        now = self._clock.now()
        if self._gap_since is None:
            self._gap_since = now
        return now - self._gap_since >= self._gap_grace_s

    def _fan_out(self, events: list[AuditEvent]) -> None:
        if not events:
            return
        for follower in self._followers:
            if follower.behind:  # it replays from the store; live rows would skip the gap
                follower.wake.set()
                continue
            if len(follower.events) + len(events) > self._buffer:
                follower.events.clear()
                follower.behind = True
                self.overflows += 1
            else:
                follower.events.extend(events)
            follower.wake.set()

    async def events_since(self, seq: int, limit: int) -> list[AuditEvent]:
        """Committed events after ``seq`` up to the frontier, at most ``limit``."""
        async with self._store.read() as tx:
            rows = await tx.audit_since(seq, limit)
        return [event_of(r) for r in rows if (r.id or 0) <= self.frontier]

    async def follow(self, after: int) -> AsyncGenerator[AuditEvent, None]:
        """Every event after ``after``: the replay from the store, then live, in seq order."""
        batches = self.follow_batches(after)
        try:
            async for batch in batches:
                for event in batch:
                    yield event
        finally:
            await batches.aclose()

    async def follow_batches(self, after: int) -> AsyncGenerator[list[AuditEvent], None]:
        """:meth:`follow` in batches: each replay page, then whatever arrived since the last.

        A stream writes one batch at once: under load, many commits cost one wake-up and one
        write per follower instead of one per event.
        """
        follower = _Follower()
        self._followers.add(follower)
        last = after
        try:
            while not (self.closed or follower.ended):
                follower.behind = False
                while last < self.frontier and not follower.behind:
                    page = [e for e in await self.events_since(last, PAGE) if e.seq > last]
                    if not page:  # rows pruned or skipped gaps: nothing more to replay
                        last = max(last, self.frontier)
                        break
                    yield page
                    last = page[-1].seq
                while not (self.closed or follower.ended or follower.behind):
                    fresh = [e for e in follower.events if e.seq > last]
                    follower.events.clear()
                    if fresh:
                        yield fresh
                        last = fresh[-1].seq
                    if follower.behind:
                        break
                    if follower.events:
                        continue  # more arrived while the batch was written
                    follower.wake.clear()
                    await follower.wake.wait()
        finally:
            self._followers.discard(follower)


async def _first(*waits: Coroutine[Any, Any, None] | None) -> None:
    """Wait until the first of ``waits`` (Nones skipped) returns; cancel the rest."""
    tasks = [asyncio.ensure_future(w) for w in waits if w is not None]
    try:
        await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.gather(*tasks, return_exceptions=True)
