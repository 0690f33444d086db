"""Named crash points: no-ops in production, a ``SimulatedCrash`` where a test arms one."""

from collections import Counter
from dataclasses import dataclass, field

CRASH_POINTS = (
    "step.after_exec",  # a node's exec/post ran; its step is not committed
    "step.before_commit",  # inside the step transaction, just before COMMIT
    "step.after_commit",
    "decide.in_tx",  # inside the decide transaction, just before COMMIT
    "decide.after_commit_before_ack",
    "outbox.before_send",  # marked in_flight, not sent
    "outbox.after_send_before_mark",  # the platform applied it; not marked done
    "outbox.after_mark",
    "timer.before_decide",
    "boot.mid_recovery",
)


class SimulatedCrash(BaseException):  # a crash, not an error: nothing may catch it
    """Raised at an armed crash point; like ``kill -9``, nothing in the runtime handles it."""


@dataclass
class _Armed:
    skip: int
    match: dict[str, str]


@dataclass
class CrashPoints:
    """Crash points a test can arm; ``hit`` counts every pass and raises when armed.

    ``arm(name, skip=n, **match)`` crashes at the first pass after ``n`` passes whose context
    includes every ``match`` item (e.g. ``kind="publish"``), then disarms itself.
    """

    hits: Counter[str] = field(default_factory=Counter)
    _armed: dict[str, _Armed] = field(default_factory=dict)

    def arm(self, name: str, *, skip: int = 0, **match: str) -> None:
        """Crash at the (skip+1)-th matching pass through ``name``."""
        if name not in CRASH_POINTS:
            raise ValueError(f"unknown crash point {name!r}; known: {', '.join(CRASH_POINTS)}")
        self._armed[name] = _Armed(skip, dict(match))

    def disarm(self) -> None:
        """Forget every armed point."""
        self._armed.clear()

    @property
    def armed(self) -> list[str]:
        """Names of the points still armed."""
        return list(self._armed)

    def hit(self, name: str, **context: str) -> None:
        """Pass through crash point ``name``; raise SimulatedCrash if it is armed and matches."""
        self.hits[name] += 1
        armed = self._armed.get(name)
        if armed is None or any(context.get(k) != v for k, v in armed.match.items()):
            return
        if armed.skip > 0:
            armed.skip -= 1
            return
        del self._armed[name]
        raise SimulatedCrash(f"{name} {context}")
