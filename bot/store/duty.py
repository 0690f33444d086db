"""Singleton duties: work one process at a time does for all, held through a lease row.

The expiry sweep and retention pruning need doing once, not once per process. Each is a named
row in ``duties`` (``Tx.claim_duty``): a process does the work only while it holds an
unexpired lease on it, renews the lease once a third of it has passed, and gives it up on a
clean shutdown; when its holder dies, another process takes the duty over once the lease has
run out. The lease avoids duplicate work and contention, not double effects: the work stays
correct if two processes do it at once (each expiry is a compare-and-set on its wait, pruning
skips rows another transaction holds), so a holder that loses its lease mid-way does no harm.
"""

import logging

from bot.ports import Clock
from bot.store import Store

log = logging.getLogger(__name__)


class DutyLease:
    """This process's view of one duty's lease.

    Args:
        name: the duty (``timers``, ``prune``).
        holder: who we are: the runtime's ``runner_id``. A process restarted with the same id
            takes its duty back at once; others wait for the lease to run out.
        lease_s: lease length. A non-holder asks again every third of it.
    """

    def __init__(self, store: Store, name: str, holder: str, clock: Clock, lease_s: float) -> None:
        self.name, self.holder, self.lease_s = name, holder, lease_s
        self._store, self._clock = store, clock
        self.until = 0.0  # the end of our lease as far as we know; 0.0 while it is not ours
        self._retry_at = 0.0  # a non-holder does not ask the database again before this

    def held(self) -> bool:
        """Whether our lease is live now (as of the last claim or renewal)."""
        return self._clock.now() < self.until

    def next_check(self) -> float:
        """When :meth:`hold` has something to do: renew our lease, or try for it again."""
        if self.held():
            return self.until - self.lease_s * 2 / 3
        return self._retry_at

    async def hold(self) -> bool:
        """Whether we hold the duty now; renews or claims it in the database when it is time.

        Cheap to call often: no database access while our lease is fresh, or while another
        process held it when we last asked (until a third of a lease has passed).
        """
        now = self._clock.now()
        if now < self.until - self.lease_s * 2 / 3:
            return True
        if not self.held() and now < self._retry_at:
            return False
        was_ours = self.held()
        async with self._store.transaction() as tx:
            got = await tx.claim_duty(self.name, self.holder, now, now + self.lease_s)
        if got:
            if not was_ours:
                log.info("duty %s: taken by %s", self.name, self.holder)
            self.until = now + self.lease_s
        else:
            if was_ours:
                log.warning("duty %s: lease lost to another process", self.name)
            self.until, self._retry_at = 0.0, now + self.lease_s / 3
        return got

    async def release(self) -> None:
        """Give the duty up (a clean shutdown) so another process takes it over at once."""
        if self.until == 0.0:
            return
        self.until = 0.0
        async with self._store.transaction() as tx:
            await tx.release_duty(self.name, self.holder)
