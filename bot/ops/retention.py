"""Retention: a duty that deletes runs that ended more than ``keep_s`` ago, with all their rows.

A run is pruned only once it is over (finished or failed) and none of its effects is still
pending or in flight; its waits, their inbox rows, its outbox rows and its audit rows go with
it, in batches of ``batch`` runs per transaction so no transaction holds the database long.
"""

import logging

from bot.ports import Clock
from bot.store import Store

log = logging.getLogger(__name__)

BATCH = 500
EVERY_S = 3600.0


async def prune(store: Store, clock: Clock, keep_s: float, *, batch: int = BATCH) -> int:
    """Delete every run that ended before ``now - keep_s``; how many."""
    before, total = clock.now() - keep_s, 0
    while True:
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


async def pruning(store: Store, clock: Clock, keep_s: float, *, every_s: float = EVERY_S) -> None:
    """Prune now and then every ``every_s`` seconds, until cancelled; errors are logged."""
    while True:
        try:
            await prune(store, clock, keep_s)
        except Exception:
            log.exception("retention: pruning failed; trying again in %.0f s", every_s)
        await clock.sleep(every_s)
