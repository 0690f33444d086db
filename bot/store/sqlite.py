"""SqliteStore: the default store, one SQLite file in WAL mode with ``synchronous=FULL``.

One connection per store; an asyncio lock serialises this process's transactions on it, and
``BEGIN IMMEDIATE`` plus a busy timeout serialise writers across connections and processes.
Statements run on the event loop's thread and each transaction makes one round trip to the
store's worker thread, for its ``COMMIT`` (``_sqlite_conn.LoopConnection``).
WAL checkpoints run on a second connection in the background every ``CHECKPOINT_EVERY``
commits, so no decision waits for one (SQLite's automatic checkpoint runs inside a COMMIT).
"""

import asyncio
import contextlib
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Self

import aiosqlite

from bot.models import ScopeConfig
from bot.store._sqlite_conn import LoopConnection
from bot.store._sqlite_tx import SqliteTx
from bot.store.backup import snapshot_before_migrating
from bot.store.migrations import LATEST, SCHEMA_VERSION_TABLE, pending

BUSY_TIMEOUT_MS = 10_000
CHECKPOINT_EVERY = 100


class SqliteStore:
    """The ``Store`` over one SQLite database file."""

    def __init__(self, db: LoopConnection, path: str) -> None:
        self._db = db
        self._lock = asyncio.Lock()
        self.path = path
        self._commits = 0
        self._checkpointer: aiosqlite.Connection | None = None
        self._checkpoint: asyncio.Task[None] | None = None

    @classmethod
    async def open(cls, path: str | Path, *, target_version: int = LATEST) -> Self:
        """Open ``path`` (created if missing) and migrate it to ``target_version``."""
        db = LoopConnection.connect(str(path), BUSY_TIMEOUT_MS)
        try:
            for pragma in (
                "PRAGMA journal_mode=WAL",
                # a commit is on disk before anyone is told about it (decisions, outbox)
                "PRAGMA synchronous=FULL",
                "PRAGMA foreign_keys=ON",
                "PRAGMA wal_autocheckpoint=0",  # see _checkpoint_soon
            ):
                await db.execute(pragma)
            store = cls(db, str(path))
            await store._migrate(target_version)
        except BaseException:
            await db.close()
            raise
        return store

    async def _migrate(self, target: int) -> None:
        async with self._lock:
            await self._db.execute("BEGIN IMMEDIATE")
            try:
                await self._db.execute(SCHEMA_VERSION_TABLE)
                current = await self._version()
                applied = {
                    int(r[0])
                    for r in await self._db.execute_fetchall("SELECT version FROM schema_version")
                }
                steps = pending(current, target, applied)
                await snapshot_before_migrating(self.path, current, steps)
                for step in steps:
                    for statement in step.statements("sqlite"):
                        await self._db.execute(statement)
                    await self._db.execute(
                        "INSERT INTO schema_version (version, description, applied_at) "
                        "VALUES (?,?,?)",
                        (step.version, step.description, time.time()),
                    )
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.commit()

    async def _version(self) -> int:
        rows = list(await self._db.execute_fetchall("SELECT MAX(version) FROM schema_version"))
        value = rows[0][0] if rows else None
        return int(value) if value is not None else 0

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTx]:
        """BEGIN IMMEDIATE ... COMMIT; any exception (a simulated crash too) rolls back."""
        async with self._lock:
            await self._begin("BEGIN IMMEDIATE")
            try:
                yield SqliteTx(self._db)
            except BaseException:
                await self._db.execute("ROLLBACK")
                raise
            await self._db.commit()
        self._commits += 1
        if self._commits % CHECKPOINT_EVERY == 0:
            self._checkpoint_soon()

    async def _begin(self, sql: str) -> None:
        """Start a transaction; if we are cancelled meanwhile, leave no transaction open.

        A ``BEGIN IMMEDIATE`` that waits for another process's lock waits on the worker
        thread, and cancelling the await does not cancel it: without this, the connection would
        stay inside a transaction that nobody owns and every later BEGIN would fail.
        """
        try:
            await self._db.execute(sql)
        except asyncio.CancelledError:
            if self._db.in_transaction:
                with contextlib.suppress(sqlite3.Error):
                    await self._db.execute("ROLLBACK")
            raise

    def _checkpoint_soon(self) -> None:
        """Copy the WAL back into the database file without holding up any transaction."""
        if self._checkpoint is None or self._checkpoint.done():
            self._checkpoint = asyncio.create_task(self._run_checkpoint(), name="sqlite-checkpoint")

    async def _run_checkpoint(self) -> None:
        if self._checkpointer is None:
            self._checkpointer = await aiosqlite.connect(self.path, isolation_level=None)
        # PASSIVE never blocks readers or writers; what it cannot copy now waits for the next one
        await self._checkpointer.execute("PRAGMA wal_checkpoint(PASSIVE)")

    @asynccontextmanager
    async def read(self) -> AsyncIterator[SqliteTx]:
        """A deferred transaction: one consistent snapshot for several reads."""
        async with self._lock:
            await self._begin("BEGIN")
            try:
                yield SqliteTx(self._db)
            finally:
                await self._db.execute("COMMIT")

    async def save_scope(self, config: ScopeConfig) -> None:
        async with self.transaction() as tx:
            await tx.save_scope(config)

    async def get_scope(self, platform: str, scope: str) -> ScopeConfig | None:
        async with self.read() as tx:
            return await tx.get_scope(platform, scope)

    async def schema_version(self) -> int:
        async with self._lock:
            return await self._version()

    async def close(self) -> None:
        try:
            if self._checkpoint is not None:
                await self._checkpoint
        finally:
            if self._checkpointer is not None:
                await self._checkpointer.close()
            await self._db.close()
