"""Running several surfaces side by side: each is retried when it fails, none stops the others.

A surface is anything that serves until cancelled (a Discord gateway session, a Slack socket or
HTTP listener). :func:`supervise` restarts one after an error with a growing pause, stops it
for good on a :class:`~bot.errors.ConfigError` (a bad token will not fix itself), and records
what happened in its :class:`SurfaceStatus`, which start-up messages and health checks read.
"""

import asyncio
import logging
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from enum import StrEnum

from bot import logs
from bot.errors import ConfigError
from bot.ports import Clock

log = logging.getLogger(__name__)

BACKOFF_S = (1.0, 2.0, 5.0, 10.0, 30.0, 60.0)  # then 60 s between tries
HEALTHY_S = 60.0  # a surface that ran this long before failing starts its backoff afresh


class SurfaceState(StrEnum):
    """Where a supervised surface is."""

    STARTING = "starting"
    RUNNING = "running"
    RETRYING = "retrying"  # failed; tried again after a pause
    STOPPED = "stopped"  # failed for good (configuration); the others keep serving


@dataclass
class SurfaceStatus:
    """What is known about one surface: its state, the last problem, how often it failed."""

    name: str
    state: SurfaceState = SurfaceState.STARTING
    detail: str = ""
    failures: int = 0
    since: float = 0.0
    # What the adapter last reported through :meth:`report` (gateway READY, socket hello,
    # listener bound): None means "not reported" (RUNNING counts as ready). Reset every try.
    connected: bool | None = None
    connection: str = ""  # the adapter's words for its last report ("gateway READY")

    @property
    def ready(self) -> bool:
        """RUNNING, and not known to be disconnected."""
        return self.state == SurfaceState.RUNNING and self.connected is not False

    def report(self, connected: bool, detail: str) -> None:
        """The adapter's :class:`bot.ports.ConnectionHook`: connected to its platform or not."""
        if connected != self.connected:
            lost = self.connected and not connected  # a warning; "connecting" at start is not
            log.log(
                logging.WARNING if lost else logging.INFO,
                "%s %s: %s",
                self.name,
                "connected" if connected else "not connected",
                detail,
            )
        self.connected, self.connection = connected, detail


async def supervise(
    status: SurfaceStatus,
    run: Callable[[], Awaitable[None]],
    clock: Clock,
    *,
    backoff: Sequence[float] = BACKOFF_S,
) -> None:
    """Call ``run`` until cancelled, retrying after errors; return only on a ConfigError."""
    with logs.bound(surface=status.name):
        await _supervise(status, run, clock, backoff)


async def _supervise(
    status: SurfaceStatus,
    run: Callable[[], Awaitable[None]],
    clock: Clock,
    backoff: Sequence[float],
) -> None:
    streak = 0
    while True:
        status.state, status.since = SurfaceState.RUNNING, clock.now()
        status.connected, status.connection = None, ""
        try:
            await run()
            problem = "stopped serving by itself"
        except asyncio.CancelledError:
            raise
        except ConfigError as exc:
            status.state, status.detail = SurfaceState.STOPPED, str(exc)
            log.error("%s stopped: %s (the other surfaces keep serving)", status.name, exc)
            return
        except Exception as exc:
            problem = f"{type(exc).__name__}: {exc}"
            log.exception("%s failed", status.name)
        if clock.now() - status.since >= HEALTHY_S:
            streak = 0
        pause = backoff[min(streak, len(backoff) - 1)]
        streak += 1
        status.failures += 1
        status.state, status.detail = SurfaceState.RETRYING, problem
        log.warning("%s: %s; trying again in %.0f s", status.name, problem, pause)
        await clock.sleep(pause)
