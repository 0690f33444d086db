"""Copying a SQLite database into an empty PostgreSQL one (``jokebot migrate-store``).

Both are first opened as stores, so both are at the latest schema; then every table is copied
in one PostgreSQL transaction (parents first, ``audit`` and ``requests`` ids kept) from one
SQLite snapshot, and the row count of every table is compared before COMMIT: a mismatch leaves
the target empty.
"""

from pathlib import Path

import aiosqlite
import psycopg

from bot.errors import ConfigError, UserFacingError
from bot.store import is_postgres
from bot.store._pg_outbox import Conn
from bot.store.postgres import PostgresStore, where
from bot.store.sqlite import SqliteStore

TABLES = (
    "runs",
    "waits",
    "inbox",
    "outbox",
    "audit",
    "scopes",
    "routes",
    "link_codes",
    "requests",
    "slack_installations",
)  # waits refer to runs; duties and OAuth states are not copied: the source's leases and
# sign-ins in progress, not data


class StoreNotEmpty(UserFacingError):
    """The target already holds data; copying into it could mix two bots' histories."""


async def copy_sqlite_to_postgres(source: str, target: str) -> dict[str, int]:
    """Copy every row of the SQLite ``source`` URL into the empty PostgreSQL ``target``.

    Returns the row count of every table (equal on both sides). Stop the bot first: rows
    written to the source after the copy started are not copied.
    """
    path = _sqlite_path(source)
    if not is_postgres(target):
        raise ConfigError("migrate-store: DST must be a postgresql:// URL")
    await (await SqliteStore.open(path)).close()  # both at the latest schema version
    await (await PostgresStore.open(target)).close()
    async with (
        aiosqlite.connect(path, isolation_level=None) as src,
        await psycopg.AsyncConnection.connect(target) as dst,
    ):
        await src.execute("BEGIN")  # one snapshot of the source
        counts = {table: await _count_sqlite(src, table) for table in TABLES}
        async with dst.transaction():
            # nobody writes the target meanwhile (a bot started on it too early waits)
            await dst.execute(f"LOCK TABLE {', '.join(TABLES)} IN EXCLUSIVE MODE")
            found = {table: await _count_pg(dst, table) for table in TABLES}
            if any(found.values()):
                raise StoreNotEmpty(_not_empty(target, found))
            for table in TABLES:
                await _copy_table(src, dst, table)
            for table in ("audit", "requests"):  # ids kept: the sequences go on after them
                await dst.execute(
                    f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "  # noqa: S608
                    f"COALESCE(MAX(id), 0) + 1, false) FROM {table}"
                )
            copied = {table: await _count_pg(dst, table) for table in TABLES}
            if copied != counts:
                raise RuntimeError(f"row counts differ after copying: {counts} vs {copied}")
        await src.execute("COMMIT")
    return counts


def _sqlite_path(source: str) -> str:
    if not source.startswith("sqlite:///"):
        raise ConfigError("migrate-store: SRC must be a sqlite:///path/to/jokebot.db URL")
    path = source.removeprefix("sqlite:///")
    if not Path(path).is_file():
        raise ConfigError(f"migrate-store: no SQLite database at {path}")
    return path


def _not_empty(target: str, found: dict[str, int]) -> str:
    rows = ", ".join(f"{table} {n}" for table, n in found.items() if n)
    return (
        f"the target database at {where(target)} is not empty ({rows}); "
        "migrate-store copies only into an empty one (a fresh database or schema)"
    )


async def _count_sqlite(src: aiosqlite.Connection, table: str) -> int:
    rows = list(await src.execute_fetchall(f"SELECT COUNT(*) FROM {table}"))  # noqa: S608
    return int(rows[0][0])


async def _count_pg(dst: Conn, table: str) -> int:
    cursor = await dst.execute(f"SELECT COUNT(*) FROM {table}")  # noqa: S608
    row = await cursor.fetchone()
    return int(str(row[0])) if row is not None else 0


async def _copy_table(src: aiosqlite.Connection, dst: Conn, table: str) -> None:
    async with src.execute(f"SELECT * FROM {table}") as rows:  # noqa: S608
        columns = ", ".join(d[0] for d in rows.description)
        async with dst.cursor() as cursor, cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as c:
            async for row in rows:
                await c.write_row(tuple(row))
