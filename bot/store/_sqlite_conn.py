"""LoopConnection: one SQLite connection whose statements run on the event loop's thread.

A statement inside a transaction is a few microseconds of work on pages SQLite already holds in
memory; sending each one to a worker thread and back (as aiosqlite does) costs more than the
statement and made a decision about a dozen thread round trips. Here statements run in place
and only what can wait on something else goes to the store's own worker thread:

- ``COMMIT``, which writes the WAL and fsyncs it (``synchronous=FULL``): one round trip per
  transaction;
- a ``BEGIN IMMEDIATE`` (or any statement) that finds the database locked by another process:
  the connection's busy timeout is 0 on the loop, so SQLite answers ``SQLITE_BUSY`` at once and
  the statement is retried on the worker thread with the real timeout, where waiting blocks
  nobody. A statement that returned ``SQLITE_BUSY`` did nothing, so the retry is safe.

The connection is used by one coroutine at a time (the store's lock) and, while a statement is
on the worker thread, only by that thread: :meth:`offload` waits for the thread to finish even
when its caller is cancelled.
"""

import asyncio
import sqlite3
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

T = TypeVar("T")
Params = Sequence[Any]


class LoopCursor:
    """The part of a cursor the store's queries use (aiosqlite-shaped, so they need no change)."""

    def __init__(self, cursor: sqlite3.Cursor) -> None:
        self._cursor = cursor

    @property
    def rowcount(self) -> int:
        return self._cursor.rowcount

    async def fetchone(self) -> Any:
        return self._cursor.fetchone()

    async def fetchall(self) -> list[Any]:
        return self._cursor.fetchall()

    async def close(self) -> None:
        self._cursor.close()


def _is_busy(error: sqlite3.OperationalError) -> bool:
    code = getattr(error, "sqlite_errorcode", None)
    if code is not None:
        return code & 0xFF in (sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED)
    return "locked" in str(error) or "busy" in str(error)


class LoopConnection:
    """Shaped like ``aiosqlite.Connection``: ``execute``, ``execute_fetchall``, ``executemany``.

    Args:
        db: an autocommit (``isolation_level=None``) connection opened with
            ``check_same_thread=False``.
        busy_timeout_ms: how long a statement may wait for another process's lock (on the
            worker thread).
    """

    def __init__(self, db: sqlite3.Connection, busy_timeout_ms: int) -> None:
        self._db = db
        self._busy_timeout_ms = busy_timeout_ms
        self._worker = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite-commit")
        db.execute("PRAGMA busy_timeout=0")

    @classmethod
    def connect(cls, path: str, busy_timeout_ms: int) -> "LoopConnection":
        """Open ``path`` in autocommit mode, usable from the loop and the worker thread."""
        return cls(
            sqlite3.connect(path, isolation_level=None, check_same_thread=False), busy_timeout_ms
        )

    async def offload(self, work: Callable[[], T]) -> T:
        """Run ``work`` on the worker thread; wait for it to finish even if we are cancelled."""
        future = asyncio.get_running_loop().run_in_executor(self._worker, work)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            while not future.done():  # the thread owns the connection until it is done
                try:
                    await asyncio.shield(future)
                except asyncio.CancelledError:
                    continue
                except BaseException:
                    break
            raise

    def _waiting(self, work: Callable[[], T]) -> Callable[[], T]:
        """``work`` with the busy timeout on, for the worker thread."""

        def run() -> T:
            self._db.execute(f"PRAGMA busy_timeout={int(self._busy_timeout_ms)}")
            try:
                return work()
            finally:
                self._db.execute("PRAGMA busy_timeout=0")

        return run

    async def _run(self, work: Callable[[], T]) -> T:
        try:
            return work()
        except sqlite3.OperationalError as error:
            if not _is_busy(error):
                raise
        return await self.offload(self._waiting(work))

    async def execute(self, sql: str, params: Params = ()) -> LoopCursor:
        return LoopCursor(await self._run(lambda: self._db.execute(sql, params)))

    async def execute_fetchall(self, sql: str, params: Params = ()) -> list[Any]:
        return await self._run(lambda: self._db.execute(sql, params).fetchall())

    async def executemany(self, sql: str, rows: Iterable[Params]) -> LoopCursor:
        batch = list(rows)  # a retry must see the same rows
        return LoopCursor(await self._run(lambda: self._db.executemany(sql, batch)))

    @property
    def in_transaction(self) -> bool:
        return self._db.in_transaction

    async def commit(self) -> None:
        """``COMMIT`` on the worker thread: the WAL write and its fsync block nobody."""
        await self.offload(self._waiting(lambda: self._db.execute("COMMIT")))

    async def close(self) -> None:
        await self.offload(self._db.close)
        self._worker.shutdown(wait=True)
