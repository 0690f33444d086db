"""Retention: a duty that deletes runs that ended more than ``keep_s`` ago, with all their rows.

A run is pruned only once it is over (finished or failed) and none of its effects is still
pending or in flight; its waits, their inbox rows, its outbox rows and its audit rows go with
it, in batches of ``batch`` runs per transaction so no transaction holds the database long.

Of several processes on one database only one prunes: the holder of the ``prune`` duty
(``bot.store.duty``), whose lease lasts two pruning periods and is renewed at each.
"""

import contextlib
import logging

from bot.ports import Clock
from bot.store import Store
from bot.store.duty import DutyLease

log = logging.getLogger(__name__)

BATCH = 500
EVERY_S = 3600.0
PRUNE_DUTY = "prune"


async def prune(
    store: Store, clock: Clock, keep_s: float, *, batch: int = BATCH, until: float | None = None
) -> int:
    """Delete every run that ended before ``now - keep_s``; how many.

    With ``until`` (the end of our duty lease), stop between batches once the clock reaches it.
    """
    before, total = clock.now() - keep_s, 0
    while until is None or clock.now() < until:
        async with store.transaction() as tx:
            done = await tx.prune_runs(before, batch)
        total += done
        if done < batch:
            break
    if total:
        log.info(
            "retention: pruned %d run(s) that ended more than %.0f days ago", total, keep_s / 86400
        )
    return total


async def pruning(
    store: Store, clock: Clock, keep_s: float, *, holder: str, every_s: float = EVERY_S
) -> None:
    """Prune now and then every ``every_s`` seconds while ``holder`` holds the prune duty.

    Runs until cancelled, then gives the duty up; errors are logged.
    """
    duty = DutyLease(store, PRUNE_DUTY, holder, clock, lease_s=2 * every_s)
    try:
        while True:
            try:
                if await duty.hold():
                    await prune(store, clock, keep_s, until=duty.until)
            except Exception:
                log.exception("retention: pruning failed; trying again in %.0f s", every_s)
            await clock.sleep(every_s)
    finally:
        with contextlib.suppress(Exception):  # the lease runs out by itself anyway
            await duty.release()
