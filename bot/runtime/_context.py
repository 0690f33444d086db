"""What every part of the runtime shares: store, flows, senders, clock, identity and wake-ups."""

import asyncio
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from bot.ports import Clock, EffectSender
from bot.runtime._crash import CrashPoints
from bot.store import Store
from bot.telemetry import NoTelemetry, Telemetry
from flows import AsyncFlow


@dataclass
class Wakeups:
    """One event per background loop: set when new work for that loop was committed."""

    runs: asyncio.Event = field(default_factory=asyncio.Event)
    outbox: asyncio.Event = field(default_factory=asyncio.Event)
    timers: asyncio.Event = field(default_factory=asyncio.Event)

    def all(self) -> None:
        """Wake every loop."""
        self.runs.set()
        self.outbox.set()
        self.timers.set()

    def hint(self, loops: Iterable[str]) -> None:
        """Wake the loops named ``runs``, ``outbox`` or ``timers`` (other names are ignored)."""
        for name in loops:
            if name in ("runs", "outbox", "timers"):
                getattr(self, name).set()


@dataclass
class Context:
    """The runtime's collaborators and settings, passed to each part."""

    store: Store
    flows: Mapping[str, AsyncFlow]
    senders: dict[str, EffectSender]  # by platform; see Runtime.register_sender
    clock: Clock
    runner_id: str
    crash: CrashPoints
    lease_s: float
    wake: Wakeups = field(default_factory=Wakeups)
    telemetry: Telemetry = field(default_factory=NoTelemetry)
    cards_due: float = 0.0  # when the review cards are next checked (bot.runtime._repair)
