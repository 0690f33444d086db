"""What the Discord and Slack load benchmarks share: the stub core and the pacing of the load.

The stub core acknowledges ``/joke`` at once and drafts in the background for ``llm_s``
seconds (as the runtime does), then posts a review card through the platform's real sender.
"""

import asyncio
import gc
import sys
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import BadRequest
from bot.models import (
    Actor,
    DecideResult,
    DecideStatus,
    DecisionRequest,
    JokeRequest,
    LinkCode,
    OutboxEffect,
    ScopeConfig,
    StatusReport,
    Surface,
    WaitInfo,
)
from bot.ports import EffectSender

DEADLINE_S = 3.0  # Discord's and Slack's deadline for acknowledging an interaction
ROOT = Path(__file__).resolve().parent.parent  # the checkout: the child process runs here


def freeze_gc() -> None:
    """Move every object alive now out of the collector's reach (cheaper gen-2 passes)."""
    gc.collect()
    gc.freeze()


async def arrivals(n: int, rate: float) -> AsyncIterator[int]:
    """Yield ``0 .. n-1``, each at its arrival time: ``rate`` per second from the first."""
    loop = asyncio.get_running_loop()
    start = loop.time()
    for i in range(n):
        delay = start + i / rate - loop.time()
        if delay > 0:
            await asyncio.sleep(delay)
        yield i


async def until_stdin_closes() -> None:
    """Wait, off the event loop, until the other process closes our stdin."""
    await asyncio.get_running_loop().run_in_executor(None, sys.stdin.read)


@dataclass
class DraftingSink:
    """The EventSink parts of the stub core; a subclass adds ``request_joke`` and its card."""

    llm_s: float
    sender: EffectSender | None = None
    scope_config: ScopeConfig | None = None
    tasks: set[asyncio.Task[None]] = field(default_factory=set)
    peak_in_flight: int = 0
    cards: int = 0
    card_errors: int = 0

    def draft_in_background(self, request: JokeRequest) -> None:
        """Start drafting for ``request``; the card is posted ``llm_s`` seconds later."""
        task = asyncio.create_task(self._draft(request))
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        self.peak_in_flight = max(self.peak_in_flight, len(self.tasks))

    async def _draft(self, request: JokeRequest) -> None:
        await asyncio.sleep(self.llm_s)  # the model, as slow as a real one
        effect = self.review_post(request)
        assert self.sender is not None
        try:
            await self.sender.send(effect)
            self.cards += 1
        except Exception as exc:  # a bench must not die on one failed card
            self.card_errors += 1
            self.card_failed(exc)

    def card(self, request: JokeRequest) -> dict[str, Any]:
        """The review card's fields: the first attempt at a fixed joke."""
        return {"topic": request.topic, "draft": "A joke.", "attempt": 1, "max_attempts": 3}

    def review_post(self, request: JokeRequest) -> OutboxEffect:
        """The effect that posts ``request``'s review card (each platform builds its own)."""
        raise NotImplementedError

    def card_failed(self, exc: Exception) -> None:
        """A card could not be posted (already counted in ``card_errors``)."""

    async def decide(self, request: DecisionRequest) -> DecideResult:
        return DecideResult(DecideStatus.NOT_FOUND, "not in this benchmark")

    async def wait_info(self, token: str) -> WaitInfo | None:
        return None

    async def status(self, requester: Actor) -> StatusReport:
        return StatusReport((), 0.0, 0.0)

    async def save_scope(self, config: ScopeConfig) -> None:
        return None

    async def scope(self, platform: str, scope: str) -> ScopeConfig | None:
        return self.scope_config

    async def link_code(self, platform: str, scope: str) -> LinkCode:
        raise BadRequest("linking is not available here")

    async def link(self, code: str, surface: Surface) -> str:
        raise BadRequest("linking is not available here")
