"""Recovery at boot: decide overdue waits, reconcile effects left in flight, check the cards.

Idempotent: every step is a compare-and-set or a reconcile, so a crash part-way through and a
second boot converge to the same state. Runnable runs need nothing special: the worker picks
them up (their lease is ours, or expires).
"""

import logging

from bot.runtime._context import Context
from bot.runtime._outbox import deliver_due
from bot.runtime._repair import repair_cards
from bot.runtime._timers import expire_due

log = logging.getLogger(__name__)


async def recover(ctx: Context) -> None:
    """Catch up timers, reconcile in-flight effects, re-post or update cards, wake every loop."""
    expired = await expire_due(ctx)
    ctx.crash.hit("boot.mid_recovery", phase="timers")
    reconciled = await deliver_due(ctx, limit=1000, in_flight_only=True)
    ctx.crash.hit("boot.mid_recovery", phase="outbox")
    reposted, updated = await repair_cards(ctx)
    ctx.crash.hit("boot.mid_recovery", phase="cards")
    log.info(
        "recovery: %d overdue waits expired, %d in-flight effects re-driven, "
        "%d deleted cards re-posted, %d closed cards updated",
        expired,
        reconciled,
        reposted,
        updated,
    )
    ctx.wake.all()
