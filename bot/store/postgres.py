"""PostgresStore: the store over PostgreSQL, psycopg 3 async with a psycopg_pool pool.

One pooled connection per transaction. Write transactions run at READ COMMITTED: every
compare-and-set is one UPDATE whose WHERE holds the expected state, which PostgreSQL re-checks
on the committed row after waiting for a concurrent writer, and claims lock their row with
``FOR UPDATE SKIP LOCKED`` (``_pg_outbox.py``). ``read()`` is REPEATABLE READ READ ONLY: one
snapshot for several reads. A commit is durable when the server's ``synchronous_commit`` is
on (its default). A deadlock or serialization failure rolls the transaction back and raises
``StoreConflict``; the store cannot replay the caller's block, the runtime retries the work.
A transaction that created work notifies the other processes at COMMIT, and ``wakeups()``
listens for theirs (``_pg_listen.py``).
"""

import secrets
from collections.abc import AsyncGenerator, AsyncIterator
from contextlib import asynccontextmanager, suppress
from typing import Self

import psycopg
from psycopg import errors as pg_errors
from psycopg.conninfo import conninfo_to_dict
from psycopg.pq import TransactionStatus
from psycopg_pool import AsyncConnectionPool

from bot.errors import ConfigError, StoreConflict
from bot.models import ScopeConfig
from bot.store._pg_listen import Listener, channel_for, notification
from bot.store._pg_outbox import Conn
from bot.store._pg_schema import SCHEMA_VERSION_TABLE
from bot.store._pg_tx import PgTx
from bot.store.bell import Bell
from bot.store.migrations import LATEST, pending

CONNECT_TIMEOUT_S = 10
POOL_MIN, POOL_MAX = 1, 10  # per process: runs (concurrency 4) + outbox + timers + clicks
_CONFLICTS = (pg_errors.SerializationFailure, pg_errors.DeadlockDetected)


def where(url: str) -> str:
    """``host:port/dbname`` of a PostgreSQL URL, for messages (never the password)."""
    try:
        info = conninfo_to_dict(url)
    except psycopg.ProgrammingError:
        return "an unparsable URL"
    return f"{info.get('host', 'localhost')}:{info.get('port', 5432)}/{info.get('dbname', '')}"


class PostgresStore:
    """The ``Store`` over one PostgreSQL schema (the URL's ``search_path``, else ``public``)."""

    def __init__(self, pool: AsyncConnectionPool[Conn], url: str, schema: str) -> None:
        self._pool = pool
        self.url, self.schema = url, schema
        self.channel = channel_for(schema)  # NOTIFY/LISTEN channel of this schema
        self._origin = secrets.token_hex(6)  # tags our notifications: ours are not hints to us
        self._listeners: list[Listener] = []
        self.bell = Bell()  # rung after a commit that added audit rows (bot.store.Ringing)

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        target_version: int = LATEST,
        min_size: int = POOL_MIN,
        max_size: int = POOL_MAX,
    ) -> Self:
        """Connect, migrate to ``target_version``, then open the pool."""
        try:
            conn = await psycopg.AsyncConnection.connect(
                url, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S
            )
        except psycopg.Error as exc:
            msg = f"DATABASE_URL: cannot connect to PostgreSQL at {where(url)}: {exc}"
            raise ConfigError(msg) from exc
        try:
            schema = await _migrate(conn, target_version)
        finally:
            await conn.close()
        pool: AsyncConnectionPool[Conn] = AsyncConnectionPool(
            url,
            min_size=min_size,
            max_size=max_size,
            kwargs={"autocommit": True, "connect_timeout": CONNECT_TIMEOUT_S},
            check=AsyncConnectionPool.check_connection,  # a server restart costs no transaction
            name="jokebot",
            open=False,
        )
        try:
            await pool.open(wait=True, timeout=CONNECT_TIMEOUT_S)
        except BaseException:
            await pool.close()
            raise
        return cls(pool, url, schema)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[PgTx]:
        """BEGIN READ COMMITTED ... COMMIT; any exception (a simulated crash too) rolls back."""
        async with self._within("BEGIN ISOLATION LEVEL READ COMMITTED", notify=True) as tx:
            yield tx

    @asynccontextmanager
    async def read(self) -> AsyncIterator[PgTx]:
        """A read-only snapshot: writing through it raises."""
        async with self._within("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY") as tx:
            yield tx

    @asynccontextmanager
    async def _within(self, begin: str, *, notify: bool = False) -> AsyncIterator[PgTx]:
        async with self._pool.connection() as conn:
            try:
                # pipeline mode: BEGIN and every write whose result nobody reads are queued and
                # sent with the next read, the last ones with the COMMIT (``_pg_outbox.py``)
                async with conn.pipeline() as pipeline:
                    await conn.execute(begin)
                    tx = PgTx(conn, pipeline)
                    yield tx
                    if notify and (hints := tx.hints()):
                        await conn.execute(*notification(self.channel, hints, self._origin))
                    await conn.execute("COMMIT")
                # leaving the pipeline waited for every result: a queued write that failed
                # raised there, inside this ``try``, and the transaction rolls back
                if tx.audited:
                    self.bell.ring()
            except BaseException as exc:
                await _rollback(conn)
                if isinstance(exc, _CONFLICTS):
                    raise StoreConflict(f"transaction rolled back: {exc}") from exc
                raise

    async def save_scope(self, config: ScopeConfig) -> None:
        async with self.transaction() as tx:
            await tx.save_scope(config)

    async def get_scope(self, platform: str, scope: str) -> ScopeConfig | None:
        async with self.read() as tx:
            return await tx.get_scope(platform, scope)

    async def schema_version(self) -> int:
        async with self._pool.connection() as conn:
            return await _version(conn)

    def wakeups(self) -> AsyncGenerator[frozenset[str], None]:
        """Hints that another process committed work (``Wakeable``), on a connection of its own."""
        listener = Listener(self.url, self.channel, self._origin)
        self._listeners.append(listener)
        return listener.wakeups()

    async def close(self) -> None:
        for listener in self._listeners:
            listener.closed = True
        await self._pool.close()


async def _rollback(conn: Conn) -> None:
    """Leave no transaction open; a broken connection is the pool's to discard."""
    if conn.info.transaction_status in (TransactionStatus.INTRANS, TransactionStatus.INERROR):
        with suppress(psycopg.Error):
            await conn.execute("ROLLBACK")


async def _version(conn: Conn) -> int:
    cursor = await conn.execute("SELECT MAX(version) FROM schema_version")
    row = await cursor.fetchone()
    return int(row[0]) if row is not None and row[0] is not None else 0


async def _migrate(conn: Conn, target: int) -> str:
    """Apply the pending steps in one transaction (concurrent openers queue); the schema."""
    cursor = await conn.execute("SELECT current_schema()")
    row = await cursor.fetchone()
    if row is None or row[0] is None:
        raise ConfigError("DATABASE_URL: its search_path names no existing schema")
    schema = str(row[0])
    async with conn.transaction():
        await conn.execute("SELECT pg_advisory_xact_lock(hashtext(current_schema()))")
        await conn.execute(SCHEMA_VERSION_TABLE)
        cursor = await conn.execute("SELECT version FROM schema_version")
        applied = frozenset(int(str(r[0])) for r in await cursor.fetchall())
        for step in pending(await _version(conn), target, applied):
            for statement in step.statements("postgres"):
                await conn.execute(statement)  # no parameters: '%' is not a placeholder
            await conn.execute(
                "INSERT INTO schema_version (version, description, applied_at) "
                "VALUES (%s, %s, extract(epoch from now()))",
                (step.version, step.description),
            )
    return schema
