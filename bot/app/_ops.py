"""Wiring for operations: the health server of ``serve``; ``health``, ``backup``, ``restore``."""

import asyncio
import functools
import sys
from collections.abc import AsyncIterator, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress

from bot.app._core import Core
from bot.config import Settings
from bot.errors import ConfigError
from bot.ops import Readiness, ops_app, probe, ready_url, serving_ops
from bot.ops.gauges import StoreGauges, scrape
from bot.ops.retention import pruning
from bot.store.backup import BackupError, backup, restore
from bot.supervisor import SurfaceStatus

SQLITE = "sqlite:///"


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


@asynccontextmanager
async def pruning_duty(settings: Settings, core: Core) -> AsyncIterator[None]:
    """Prune runs older than RETENTION_DAYS in the background while the block runs."""
    if settings.retention_days == 0:
        yield
        return
    keep_s = settings.retention_days * 86400
    holder = core.runtime.runner_id
    task = asyncio.create_task(
        pruning(core.store, core.clock, keep_s, holder=holder), name="retention"
    )
    try:
        yield
    finally:
        task.cancel()
        with suppress(asyncio.CancelledError):
            await task


async def check_health(settings: Settings, url: str | None) -> int:
    """``jokebot health [--url]``: print the readiness JSON; 0 ready, 1 not, 2 unreachable."""
    if url is None:
        if settings.health_port == 0:
            raise ConfigError("HEALTH_PORT=0: no health server to ask; pass --url")
        url = ready_url(settings.health_host, settings.health_port)
    status, text = await probe(url)
    print(text)
    return status


def sqlite_path(settings: Settings, command: str) -> str:
    """The SQLite file of DATABASE_URL; other databases have their own tools."""
    url = settings.database_url
    if not url.startswith(SQLITE):
        raise ConfigError(
            f"jokebot {command} works on SQLite databases; for PostgreSQL use pg_dump / "
            "pg_restore (docs/operations.md)"
        )
    return url.removeprefix(SQLITE)


async def backup_db(settings: Settings, dest: str, *, force: bool) -> int:
    """``jokebot backup PATH [--force]``: a consistent copy, also while the bot runs."""
    db = sqlite_path(settings, "backup")
    try:
        done = await asyncio.to_thread(backup, db, dest, force=force)
    except BackupError as exc:
        print(f"jokebot: backup refused: {exc}", file=sys.stderr)
        return 1
    print(f"Backed up {db} (schema v{done.version}, {done.size:,} bytes) to {done.path}.")
    return 0


async def restore_db(settings: Settings, source: str, *, force: bool) -> int:
    """``jokebot restore PATH [--force]``: replace the database by a backup (bot stopped)."""
    db = sqlite_path(settings, "restore")
    try:
        done = await asyncio.to_thread(restore, source, db, force=force)
    except BackupError as exc:
        print(f"jokebot: restore refused: {exc}", file=sys.stderr)
        return 1
    kept = f"; the previous database is {done.kept}" if done.kept else ""
    print(f"Restored {source} (schema v{done.version}) into {db}{kept}.")
    return 0
