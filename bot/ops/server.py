"""The operations HTTP server of ``jokebot serve``: liveness, readiness and (optionally) metrics.

``GET /health/live`` answers 200 while the event loop runs; ``GET /health/ready`` answers 200
or 503 with the :class:`~bot.ops.health.Report` as JSON; ``GET /metrics`` serves the
Prometheus text format when a metrics source is given.
"""

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

from aiohttp import web

from bot.ops.health import Readiness

log = logging.getLogger(__name__)

Scrape = Callable[[], Awaitable[tuple[bytes, str]]]  # (body, content type)


def ops_app(readiness: Readiness, scrape: Scrape | None = None) -> web.Application:
    """The aiohttp application serving the health endpoints (and ``/metrics``)."""

    async def live(request: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def ready(request: web.Request) -> web.Response:
        report = await readiness.check()
        return web.json_response(report.as_json(), status=200 if report.ready else 503)

    async def metrics(request: web.Request) -> web.Response:
        assert scrape is not None  # noqa: S101  # the route exists only with a source
        body, content_type = await scrape()
        return web.Response(body=body, headers={"Content-Type": content_type})

    app = web.Application()
    app.router.add_get("/health/live", live)
    app.router.add_get("/health/ready", ready)
    if scrape is not None:
        app.router.add_get("/metrics", metrics)
    return app


@asynccontextmanager
async def serving_ops(app: web.Application, host: str, port: int) -> AsyncIterator[int]:
    """Serve ``app`` on ``host:port`` (0: any free port) inside the block; yields the port."""
    runner = web.AppRunner(app, access_log=None)  # probes every few seconds: no access log
    await runner.setup()
    try:
        site = web.TCPSite(runner, host, port)
        await site.start()
        bound = int(runner.addresses[0][1])
        log.info("health and metrics on http://%s:%d", host, bound)
        yield bound
    finally:
        await runner.cleanup()
