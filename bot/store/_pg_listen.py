"""LISTEN/NOTIFY for PostgresStore: a hint to the other processes that work was committed.

A write transaction that creates work for a runtime loop (a new or resumed run, a wait with a
timer, outbox rows: ``PgTx.wakes``) sends ``pg_notify('jokebot_<schema>', '<loops> <origin>')``
in the same round trip as its COMMIT; PostgreSQL delivers it to the listeners only if the
transaction commits, and never before. ``Listener.wakeups()`` listens on a dedicated
connection (not a pooled one: a listening session must stay open and idle), skips the store's
own notifications (its runtime woke its loops itself) and yields the loop names of the rest.
After every (re)connect it yields every loop: notifications sent while nobody listened are
lost, so the loops rescan. A dropped connection is reopened with backoff. It is only a hint:
the loops still poll, and claims and compare-and-sets still decide who does what.
"""

import asyncio
import contextlib
import hashlib
import logging
from collections.abc import AsyncGenerator, Set

import psycopg
from psycopg import sql

from bot.store.records import EVERY_LOOP

log = logging.getLogger(__name__)

FIRST_RETRY_S, MAX_RETRY_S = 0.1, 10.0
TICK_S = 1.0  # a quiet listener checks this often whether its store was closed
APPLICATION_NAME = "jokebot-listen"  # how the listening session shows in pg_stat_activity


def channel_for(schema: str) -> str:
    """The notification channel of a schema (an identifier of at most 63 bytes)."""
    name = f"jokebot_{schema}"
    if len(name.encode()) <= 63:
        return name
    return f"jokebot_{hashlib.sha256(schema.encode()).hexdigest()[:32]}"


def notification(channel: str, loops: Set[str], origin: str) -> tuple[str, tuple[str, str]]:
    """The ``pg_notify`` statement and its parameters (queued with the COMMIT: one round trip)."""
    return "SELECT pg_notify(%s, %s)", (channel, f"{','.join(sorted(loops))} {origin}")


def loops_of(payload: str, own: str) -> frozenset[str]:
    """The loops a notification wakes; none if it came from the store ``own`` itself."""
    names, _, origin = payload.partition(" ")
    if origin == own:
        return frozenset()
    return frozenset(names.split(",")) & EVERY_LOOP


class Listener:
    """The wake-up hints of one store: one listening connection while iterated."""

    def __init__(self, url: str, channel: str, origin: str) -> None:
        self._url, self._channel, self._origin = url, channel, origin
        self.closed = False  # set by the store's close(): the iteration then ends

    async def wakeups(self) -> AsyncGenerator[frozenset[str], None]:
        """Loop names with new work from other processes; every loop after each (re)connect."""
        delay = FIRST_RETRY_S
        while not self.closed:
            try:
                conn = await psycopg.AsyncConnection.connect(
                    self._url,
                    autocommit=True,
                    connect_timeout=10,
                    application_name=APPLICATION_NAME,
                    keepalives=1,  # a dead peer breaks the idle session instead of hanging it
                    keepalives_idle=30,
                    keepalives_interval=10,
                )
            except psycopg.Error as exc:
                log.warning("LISTEN: cannot connect (%s); retrying in %.1f s", exc, delay)
                await asyncio.sleep(delay)
                delay = min(MAX_RETRY_S, delay * 2)
                continue
            try:
                await conn.execute(sql.SQL("LISTEN {}").format(sql.Identifier(self._channel)))
                delay = FIRST_RETRY_S
                yield EVERY_LOOP  # what was committed while nobody listened: rescan
                while not self.closed:
                    async with contextlib.aclosing(conn.notifies(timeout=TICK_S)) as notes:
                        async for note in notes:
                            if loops := loops_of(note.payload, self._origin):
                                yield loops
            except psycopg.Error as exc:
                log.warning("LISTEN: connection lost (%s); reconnecting in %.1f s", exc, delay)
            finally:
                await conn.close()
            if not self.closed:
                await asyncio.sleep(delay)
                delay = min(MAX_RETRY_S, delay * 2)
