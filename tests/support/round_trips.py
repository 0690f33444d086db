"""Counting the times a PostgreSQL client waits for the server: the round trips of a transaction.

psycopg waits for results in two places: a statement run outside pipeline mode (each is one
round trip), and, in pipeline mode, a fetch of the queued results (``BasePipeline._fetch_gen``
with results still owed: a read, a sync, the pipeline's exit). Both are wrapped here for the
duration of a ``with`` block; everything else psycopg does is sending without waiting.
"""

from collections.abc import Generator, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

from psycopg import AsyncCursor
from psycopg._pipeline_base import BasePipeline


@dataclass
class RoundTrips:
    """What the client waited for, in order: ``"pipeline"`` or the statement run alone."""

    waits: list[str] = field(default_factory=list)

    @property
    def count(self) -> int:
        return len(self.waits)


@contextmanager
def counting_round_trips() -> Iterator[RoundTrips]:
    """Count every wait for the server in this process until the block ends."""
    trips = RoundTrips()
    fetch, execute = BasePipeline._fetch_gen, AsyncCursor.execute

    def counted_fetch(self: BasePipeline, *, flush: bool) -> Generator[Any, Any, None]:
        if self.result_queue:
            trips.waits.append("pipeline")
        return (yield from fetch(self, flush=flush))

    async def counted_execute(self: AsyncCursor[Any], query: Any, *args: Any, **kw: Any) -> Any:
        if self.connection._pipeline is None:
            trips.waits.append(str(query))
        return await execute(self, query, *args, **kw)

    BasePipeline._fetch_gen = counted_fetch  # type: ignore[method-assign]
    AsyncCursor.execute = counted_execute  # type: ignore[method-assign]
    try:
        yield trips
    finally:
        BasePipeline._fetch_gen = fetch  # type: ignore[method-assign]
        AsyncCursor.execute = execute  # type: ignore[method-assign]
