"""Group commit for new runs: requests that arrive while a commit is on disk share the next one.

Each ``/joke`` is answered only once its run is committed (so an acknowledged request is never
lost), and a commit holds the store's write lock across its fsync. During a burst, one
transaction per request queued every request behind all the others'. Here a request adds its
run to a queue, and one transaction at a time takes everything queued when it gets the lock:
a burst of a hundred requests costs a few commits instead of a hundred, and each request is
still answered only after the commit that holds its run.
"""

import asyncio
from dataclasses import dataclass

from bot.store import AuditRow, RunRow, Store

MAX_BATCH = 256  # runs per transaction; the rest go into the next one


@dataclass
class _Start:
    run: RunRow
    event: AuditRow  # ``run.started``, written only when the run is new
    created: "asyncio.Future[bool]"


class StartBatches:
    """Inserts runs in shared transactions; :meth:`insert` returns once its run is committed."""

    def __init__(self, store: Store) -> None:
        self._store = store
        self._queue: list[_Start] = []
        self._writer: asyncio.Task[None] | None = None

    async def insert(self, run: RunRow, event: AuditRow) -> bool:
        """Insert ``run`` unless a run with its id exists; whether it was new, once committed."""
        start = _Start(run, event, asyncio.get_running_loop().create_future())
        self._queue.append(start)
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write(), name="runtime-start-batches")
        # shield: a caller that gives up (cancelled) must not cancel the others' commit
        return await asyncio.shield(start.created)

    async def _write(self) -> None:
        while self._queue:
            batch: list[_Start] = []
            created: list[bool] = []
            try:
                async with self._store.transaction() as tx:
                    # taken once the lock is ours: everyone who queued meanwhile comes along
                    batch = self._take()
                    created = [await tx.insert_run(s.run) for s in batch]
                    events = [s.event for s, new in zip(batch, created, strict=True) if new]
                    if events:
                        await tx.add_audit(events)
            except BaseException as exc:
                # Nothing of this batch was saved: tell each caller (and, when this task
                # itself is going away, everyone still queued).
                failed = (batch or self._take()) + (
                    [] if isinstance(exc, Exception) else self._take_all()
                )
                for start in failed:
                    if start.created.done():
                        continue
                    if isinstance(exc, Exception):
                        start.created.set_exception(exc)
                    else:
                        start.created.cancel()  # this task is cancelled: so are its callers
                if not isinstance(exc, Exception):
                    raise
                continue
            for start, new in zip(batch, created, strict=True):
                if not start.created.done():
                    start.created.set_result(new)

    def _take(self) -> list[_Start]:
        batch, self._queue = self._queue[:MAX_BATCH], self._queue[MAX_BATCH:]
        return batch

    def _take_all(self) -> list[_Start]:
        rest, self._queue = self._queue, []
        return rest
