"""Counting the times a PostgreSQL client asks the server for answers: a transaction's round trips.

psycopg waits for the server in three ways: a statement run outside pipeline mode (each is one
round trip, shown as its SQL); in pipeline mode, a Sync (``BasePipeline._enqueue_sync``: a
compare-and-set's row count, the pipeline's exit with the COMMIT), shown as ``"sync"``; and a
cursor's fetch of results still owed, which sends a flush request (``_fetch_gen(flush=True)``),
shown as ``"read"``. The demands are counted, not the waits: an answer that happens to arrive
while psycopg is still sending (a busy machine) is a round trip all the same.
"""

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncCursor
from psycopg._pipeline_base import BasePipeline

READ, SYNC = "read", "sync"


@dataclass
class RoundTrips:
    """What the client asked the server to answer, in order."""

    waits: list[str] = field(default_factory=list)
    exiting: bool = False  # a pipeline's exit sends a Sync, then a flush: one round trip


@contextmanager
def counting_round_trips() -> Iterator[RoundTrips]:
    """Count every demand for the server's answers in this process until the block ends."""
    trips = RoundTrips()
    sync, fetch, leave = BasePipeline._enqueue_sync, BasePipeline._fetch_gen, BasePipeline._exit_gen
    execute = AsyncCursor.execute

    def counted_sync(self: BasePipeline) -> None:
        trips.waits.append(SYNC)
        sync(self)

    def counted_fetch(self: BasePipeline, *, flush: bool) -> Generator[Any, Any, None]:
        if flush and self.result_queue and not trips.exiting:
            trips.waits.append(READ)
        return (yield from fetch(self, flush=flush))

    def counted_exit(self: BasePipeline) -> Generator[Any, Any, None]:
        trips.exiting = True
        try:
            return (yield from leave(self))
        finally:
            trips.exiting = False

    async def counted_execute(self: AsyncCursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        if self.connection._pipeline is None:
            trips.waits.append(str(query))
        return await execute(self, query, *args, **kw)

    patches: list[tuple[Any, str, Any, Any]] = [
        (BasePipeline, "_enqueue_sync", counted_sync, sync),
        (BasePipeline, "_fetch_gen", counted_fetch, fetch),
        (BasePipeline, "_exit_gen", counted_exit, leave),
        (AsyncCursor, "execute", counted_execute, execute),
    ]
    for owner, name, counted, _ in patches:
        setattr(owner, name, counted)
    try:
        yield trips
    finally:
        for owner, name, _, original in patches:
            setattr(owner, name, original)
