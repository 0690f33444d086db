"""Readiness: every surface running, the store answering, no effect stuck, the model usable.

Each check is cheap and local: surfaces are read from their :class:`SurfaceStatus`, the store
answers one read transaction (with the oldest open outbox effect) within ``timeout_s``, and the
LLM is judged without a network call (:meth:`bot.llm.probe.ObservedLLM.health`).
"""

import asyncio
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

from bot.ports import Clock
from bot.store import OutboxRow, Store
from bot.supervisor import SurfaceState, SurfaceStatus

STORE_TIMEOUT_S = 2.0


class ModelHealth(Protocol):
    """What readiness asks the LLM: usable or not, and why (``ObservedLLM`` implements it)."""

    def health(self) -> tuple[bool, str]: ...


@dataclass(frozen=True)
class Check:
    """One readiness check's verdict."""

    name: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Report:
    """Every check; ready when all pass. ``as_json`` is what ``/health/ready`` serves."""

    checks: list[Check] = field(default_factory=list)

    @property
    def ready(self) -> bool:
        return all(c.ok for c in self.checks)

    def as_json(self) -> dict[str, Any]:
        return {
            "status": "ready" if self.ready else "not_ready",
            "not_ready": [c.name for c in self.checks if not c.ok],
            "checks": [asdict(c) for c in self.checks],
        }


class Readiness:
    """The checks behind ``/health/ready`` for one process."""

    def __init__(
        self,
        store: Store,
        surfaces: Sequence[SurfaceStatus],
        llm: ModelHealth,
        clock: Clock,
        *,
        stuck_s: float = 600.0,
        timeout_s: float = STORE_TIMEOUT_S,
    ) -> None:
        self._store, self._surfaces, self._llm, self._clock = store, surfaces, llm, clock
        self._stuck_s, self._timeout_s = stuck_s, timeout_s

    async def check(self) -> Report:
        """Run every check now."""
        checks = [surface_check(s) for s in self._surfaces]
        checks += await self._store_checks()
        ok, detail = self._llm.health()
        return Report([*checks, Check("llm", ok, detail)])

    async def _store_checks(self) -> list[Check]:
        started = time.perf_counter()
        try:
            async with asyncio.timeout(self._timeout_s), self._store.read() as tx:
                oldest = await tx.oldest_open_effect()
        except TimeoutError:
            why = f"no answer within {self._timeout_s:g} s"
            return [Check("store", False, why), Check("outbox", False, f"unknown: {why}")]
        except Exception as exc:
            why = f"{type(exc).__name__}: {exc}"
            return [Check("store", False, why), Check("outbox", False, "unknown: store failed")]
        ms = (time.perf_counter() - started) * 1000
        return [Check("store", True, f"answered in {ms:.0f} ms"), self._outbox_check(oldest)]

    def _outbox_check(self, oldest: OutboxRow | None) -> Check:
        if oldest is None:
            return Check("outbox", True, "no open effects")
        age = self._clock.now() - oldest.created_at
        what = f"{oldest.kind} {oldest.effect_id} ({oldest.status}) open for {age:.0f} s"
        if age <= self._stuck_s:
            return Check("outbox", True, f"oldest open effect: {what}")
        error = f": {oldest.last_error}" if oldest.last_error else ""
        return Check("outbox", False, f"stuck (HEALTH_STUCK_S={self._stuck_s:g}): {what}{error}")


def surface_check(status: SurfaceStatus) -> Check:
    """A surface is ready when RUNNING and not reported disconnected by its adapter."""
    name = f"surface:{status.name}"
    how = f" ({status.connection})" if status.connection else ""
    if status.ready:
        connected = " and connected" if status.connected else ""
        return Check(name, True, f"{status.state}{connected}{how}")
    if status.state == SurfaceState.RUNNING:
        return Check(name, False, f"running but not connected{how}")
    detail = f": {status.detail}" if status.detail else ""
    return Check(name, False, f"{status.state}{detail}")
