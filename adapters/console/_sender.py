"""ConsoleSender: the console's side of the outbox, for the routes that make it a review surface.

The console shows every review straight from the store, so a card "posted" to it is there as
soon as its wait is; the sender acknowledges card posts, updates and alerts with a ref that
names the wait, and refuses what never goes to a review surface.
"""

from bot.errors import SendError
from bot.models import EffectKind, OutboxEffect

PLATFORM = "console"
CHANNEL = "web"  # the console is one surface: Surface("console", "web")


class ConsoleSender:
    """An ``EffectSender`` for ``Surface("console", "web")``."""

    async def send(self, effect: OutboxEffect) -> str:
        if effect.kind not in (EffectKind.REVIEW_POST, EffectKind.REVIEW_UPDATE, EffectKind.ALERT):
            raise SendError(f"the console does not take {effect.kind} effects", retryable=False)
        return f"console:{effect.payload.get('token', effect.effect_id)}"

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        return None  # nothing happened elsewhere: sending again is harmless

    async def exists(self, effect: OutboxEffect) -> bool | None:
        return True  # a console card cannot be deleted: it is the wait itself
