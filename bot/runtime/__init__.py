"""The durable runtime: runs flows step by step over a ``Store`` (see docs/durability.md).

Public: :class:`Runtime`, and for tests :class:`CrashPoints` / :class:`SimulatedCrash`.
"""

from bot.runtime._crash import CRASH_POINTS, CrashPoints, SimulatedCrash
from bot.runtime._decide import TIMER_ACTOR
from bot.runtime._effects import dedupe_key
from bot.runtime._outbox import backoff
from bot.runtime._runtime import Runtime

__all__ = [
    "CRASH_POINTS",
    "TIMER_ACTOR",
    "CrashPoints",
    "Runtime",
    "SimulatedCrash",
    "backoff",
    "dedupe_key",
]
