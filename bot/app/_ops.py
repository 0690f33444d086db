"""Wiring for operations: the health server of ``jokebot serve`` and ``jokebot health``."""

import functools
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager

from bot.app._core import Core
from bot.config import Settings
from bot.errors import ConfigError
from bot.ops import Readiness, ops_app, probe, ready_url, serving_ops
from bot.ops.gauges import StoreGauges, scrape
from bot.supervisor import SurfaceStatus


def readiness(settings: Settings, core: Core, surfaces: Sequence[SurfaceStatus]) -> Readiness:
    """The readiness checks of a serving process."""
    return Readiness(
        core.store, surfaces, core.observed, core.clock, stuck_s=settings.health_stuck_s
    )


@asynccontextmanager
async def ops_server(
    settings: Settings, core: Core, surfaces: Sequence[SurfaceStatus]
) -> AsyncIterator[int | None]:
    """Serve health (and metrics) on HEALTH_HOST:HEALTH_PORT in the block; the port, or None."""
    if settings.health_port == 0:
        yield None
        return
    gauges = StoreGauges(core.store, core.clock, surfaces)
    core.telemetry.registry.register(gauges)
    metrics = functools.partial(scrape, core.telemetry.registry, gauges)
    app = ops_app(readiness(settings, core, surfaces), metrics)
    host, port = settings.health_host, settings.health_port
    async with AsyncExitStack() as stack:
        try:
            bound = await stack.enter_async_context(serving_ops(app, host, port))
        except OSError as exc:
            raise ConfigError(
                f"cannot serve health on {host}:{port} ({exc}); set HEALTH_PORT"
            ) from None
        yield bound


async def check_health(settings: Settings, url: str | None) -> int:
    """``jokebot health [--url]``: print the readiness JSON; 0 ready, 1 not, 2 unreachable."""
    if url is None:
        if settings.health_port == 0:
            raise ConfigError("HEALTH_PORT=0: no health server to ask; pass --url")
        url = ready_url(settings.health_host, settings.health_port)
    status, text = await probe(url)
    print(text)
    return status
