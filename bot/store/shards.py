"""Shard leases: which Discord shards this process may connect, held through the duty table.

With ``DISCORD_SHARD_COUNT`` = N > 1, each shard id 0..N-1 is a row in ``duties`` named
``discord-shard:<id>/<N>`` (``Tx.claim_duty``): a process connects a shard only while it holds
that row's lease. Every refresh renews what it holds and claims free or expired shards up to
its limit, all in one transaction, with one lease end for the whole set.

Never two connections for one shard: the holder must have closed a shard's gateway connection
*before* its lease can run out for the others. So the connection has a deadline,
:meth:`ShardLeases.stop_by`, a safety margin before the lease ends: renewals that keep failing
(the database is unreachable) reach it and the caller closes the connection then; a process
that was paused past it must not reconnect or resume (:meth:`ShardLeases.live` is the fence
checked before every gateway connection). The holder name is unique per process start, so a
restarted process also waits for its old leases to run out: nothing depends on how the old
process died.
"""

import asyncio
import logging
import uuid
from collections.abc import Coroutine
from typing import Any, TypeVar

from bot.ports import Clock
from bot.store import Store

log = logging.getLogger(__name__)
T = TypeVar("T")


def shard_duty(shard_id: int, count: int) -> str:
    """The duty row that leases one shard of a given shard count."""
    return f"discord-shard:{shard_id}/{count}"


def shard_holder(runner_id: str) -> str:
    """A holder name unique to this process start (``runner_id`` plus a random suffix)."""
    return f"{runner_id}~{uuid.uuid4().hex[:8]}"


class ShardLeases:
    """This process's leases on shards 0..count-1.

    Args:
        holder: who we are; unique per process start (:func:`shard_holder`).
        count: the shard count N (the same in every process).
        limit: at most this many shards held at once (0: as many as are free).
        lease_s: lease length; renewed once a third of it has passed.
        margin_s: the connection closes this long before the lease ends (default a third).
    """

    def __init__(
        self,
        store: Store,
        holder: str,
        clock: Clock,
        *,
        count: int,
        limit: int = 0,
        lease_s: float = 30.0,
        margin_s: float | None = None,
    ) -> None:
        if count < 1 or limit < 0 or lease_s <= 0:
            raise ValueError("count >= 1, limit >= 0 and lease_s > 0 are required")
        self.holder, self.count, self.lease_s = holder, count, lease_s
        self.limit = limit or count
        self.margin_s = lease_s / 3 if margin_s is None else margin_s
        if not 0 < self.margin_s < lease_s * 2 / 3:
            raise ValueError("margin_s must be > 0 and leave time to renew (< 2/3 of lease_s)")
        self._store, self._clock = store, clock
        self.held: frozenset[int] = frozenset()
        self.until = 0.0  # the end of our leases as of the last renewal that committed
        self._next = 0.0  # when refresh() has something to do

    def stop_by(self) -> float:
        """The deadline of our gateway connections: a margin before the leases end."""
        return self.until - self.margin_s

    def live(self) -> bool:
        """The fence: whether we may (still) be connected to the shards we hold."""
        return bool(self.held) and self._clock.now() < self.stop_by()

    def next_check(self) -> float:
        """When :meth:`refresh` should run again (never later than :meth:`stop_by`)."""
        return min(self._next, self.stop_by()) if self.held else self._next

    async def refresh(self) -> frozenset[int]:
        """Renew what we hold, claim free shards up to the limit; the shards we may connect.

        Never raises for a database error: the shards stay ours until :meth:`stop_by`, and
        the next attempt comes soon; past the deadline the answer is no shards at all.
        """
        now = self._clock.now()
        try:
            held = await self._claim_in_time(now)
        except Exception:
            log.exception("discord shards: lease renewal failed (holder %s)", self.holder)
            self._next = now + self.lease_s / 6
            if self.held and not self.live():
                log.warning("discord shards %s: giving up, leases about to end", sorted(self.held))
                self.held = frozenset()
            return self.held
        lost = self.held - held
        if lost:
            log.warning("discord shards %s: leases lost to another process", sorted(lost))
        if held - self.held:
            log.info("discord shards: %s holds %s of %d", self.holder, sorted(held), self.count)
        self.held, self.until = held, now + self.lease_s if held else 0.0
        self._next = now + self.lease_s / 3
        return held

    async def _claim_in_time(self, now: float) -> frozenset[int]:
        """:meth:`_claim`, given up at our deadline: a hung database must not keep us connected."""
        # While connected, no later than the deadline; otherwise nothing is at stake but time.
        wait_s = self.stop_by() - now if self.live() else self.lease_s / 3
        return await self._within(self._claim(now), wait_s)

    async def _within(self, work: Coroutine[Any, Any, T], wait_s: float) -> T:
        """``work``'s result, or TimeoutError once ``wait_s`` passed on our clock."""
        task = asyncio.ensure_future(work)
        deadline = asyncio.ensure_future(self._clock.sleep(wait_s))
        try:
            await asyncio.wait({task, deadline}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            deadline.cancel()
            if not task.done():
                task.cancel()  # rolled back whenever the database answers; not awaited
        if not task.done():
            raise TimeoutError(f"no answer from the database within {wait_s:.1f} s")
        return task.result()

    async def _claim(self, now: float) -> frozenset[int]:
        until = now + self.lease_s
        got: set[int] = set()
        async with self._store.transaction() as tx:
            for shard in sorted(self.held):  # renew ours first: they are never given up here
                if await tx.claim_duty(shard_duty(shard, self.count), self.holder, now, until):
                    got.add(shard)
            for shard in range(self.count):
                if len(got) >= self.limit:
                    break
                if shard not in got and shard not in self.held:
                    name = shard_duty(shard, self.count)
                    if await tx.claim_duty(name, self.holder, now, until):
                        got.add(shard)
        return frozenset(got)

    async def release(self) -> None:
        """Give every shard up (after their connections are closed) so others take them now."""
        held, self.held, self.until = self.held, frozenset(), 0.0
        if not held:
            return
        try:  # bounded: a shutdown must not hang on the database; the leases run out anyway
            await self._within(self._release(held), self.lease_s / 3)
        except Exception:
            log.exception("discord shards %s: not released, they free up in time", sorted(held))

    async def _release(self, held: frozenset[int]) -> None:
        async with self._store.transaction() as tx:
            for shard in sorted(held):
                await tx.release_duty(shard_duty(shard, self.count), self.holder)
