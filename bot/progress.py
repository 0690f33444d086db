"""Drafting progress: an in-process hub from the drafting node to whoever watches a run.

The drafting node publishes :class:`bot.models.DraftEvent` s through the
:class:`bot.ports.DraftProgress` port; the hub files them under the run the runtime is
executing in that task (:func:`running`, a context variable, so the flow never needs to know
run ids). Nothing here is persisted: a restart forgets it, and the redone draft is announced
as a new ``started``. Memory is bounded: each watcher keeps at most ``buffer`` events (a watcher
that falls behind is resynchronised with the run's state so far instead of queueing more),
the text kept per run is capped, and at most ``max_runs`` unwatched runs are remembered.
"""

import asyncio
from collections import OrderedDict, deque
from collections.abc import AsyncGenerator, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from bot.models import DraftEvent, DraftStage

CURRENT_RUN: ContextVar[str | None] = ContextVar("jokebot_progress_run", default=None)


@contextmanager
def running(run_id: str) -> Iterator[None]:
    """Within the block (this task and what it starts), progress is about ``run_id``."""
    token = CURRENT_RUN.set(run_id)
    try:
        yield
    finally:
        CURRENT_RUN.reset(token)


class _Run:
    """What a late watcher needs: the current draft's start, its text so far, how it ended."""

    def __init__(self, max_text: int) -> None:
        self.started: DraftEvent | None = None
        self.text = ""
        self.outcome: DraftEvent | None = None  # screened, failed or finished, after started
        self.subscriptions: set[Subscription] = set()
        self._max_text = max_text

    def apply(self, event: DraftEvent) -> DraftEvent | None:
        """Take ``event`` into the state; what to pass on (a delta is cut at ``max_text``)."""
        if event.stage == DraftStage.STARTED:
            self.started, self.text, self.outcome = event, "", None
        elif event.stage == DraftStage.DELTA:
            room = self._max_text - len(self.text)
            if room <= 0:
                return None  # watchers see exactly the text a late watcher would
            if len(event.text) > room:
                event = DraftEvent(DraftStage.DELTA, event.attempt, event.text[:room])
            self.text += event.text
        else:
            self.outcome = event
        return event

    def replay(self) -> list[DraftEvent]:
        events = [] if self.started is None else [self.started]
        if self.text and self.started is not None:
            events.append(DraftEvent(DraftStage.DELTA, self.started.attempt, self.text))
        return events + ([] if self.outcome is None else [self.outcome])


class Subscription:
    """One watcher's bounded queue of a run's events; ``next()`` waits for the next one."""

    def __init__(self, run: _Run, buffer: int) -> None:
        self._run, self._buffer = run, buffer
        self._queue: deque[DraftEvent] = deque(run.replay())
        self._ready = asyncio.Event()
        self._replayed = len(self._queue)  # events at the front that are the replay
        self.resyncs = 0  # times this watcher fell behind and was given the state instead
        if self._queue:
            self._ready.set()

    def push(self, event: DraftEvent) -> None:
        if len(self._queue) >= self._buffer:
            self._queue = deque(self._run.replay())  # already includes ``event``
            self._replayed = 0
            self.resyncs += 1
        else:
            self._queue.append(event)
        self._ready.set()

    @property
    def replay_closed(self) -> bool:
        """True when the replay it started with ends with a closing event."""
        return self._replayed > 0 and self._queue[self._replayed - 1].closes

    def forget_replay(self) -> None:
        """Drop the replay it started with (the run moved on since: it drafts again)."""
        for _ in range(self._replayed):
            self._queue.popleft()
        self._replayed = 0
        if not self._queue:
            self._ready.clear()

    async def ready(self) -> None:
        """Return once an event is waiting."""
        await self._ready.wait()

    async def next(self) -> DraftEvent:
        """The next event (waits for one)."""
        while not self._queue:
            self._ready.clear()
            await self._ready.wait()
        event = self._queue.popleft()
        self._replayed = max(0, self._replayed - 1)
        if not self._queue:
            self._ready.clear()
        return event

    @property
    def pending(self) -> int:
        """Events waiting to be read."""
        return len(self._queue)


class ProgressHub:
    """In-process pub/sub of drafting progress keyed by run id (the ``DraftProgress`` port).

    Args:
        buffer: events one watcher may have unread before it is resynchronised.
        max_text: characters of a draft kept for late watchers.
        max_runs: unwatched runs remembered for late watchers (least recently active go first).
    """

    def __init__(self, *, buffer: int = 64, max_text: int = 2000, max_runs: int = 256) -> None:
        self._buffer, self._max_text, self._max_runs = buffer, max_text, max_runs
        self._runs: OrderedDict[str, _Run] = OrderedDict()

    def publish(self, event: DraftEvent) -> None:
        run_id = CURRENT_RUN.get()
        if run_id is None:
            return  # not executed by the runtime (a test, a tool): nobody can watch it
        run = self._run(run_id)
        passed = run.apply(event)
        if passed is not None:
            for subscription in list(run.subscriptions):
                subscription.push(passed)

    def knows(self, run_id: str) -> bool:
        """True when this process has seen the run draft (its events can be replayed)."""
        run = self._runs.get(run_id)
        return run is not None and run.started is not None

    @contextmanager
    def subscribe(self, run_id: str) -> Iterator[Subscription]:
        """A subscription to ``run_id`` (starting with its replay) for the block's duration."""
        run = self._run(run_id)
        subscription = Subscription(run, self._buffer)
        run.subscriptions.add(subscription)
        try:
            yield subscription
        finally:
            run.subscriptions.discard(subscription)
            self._evict()

    async def watch(self, run_id: str) -> AsyncGenerator[DraftEvent, None]:
        """The run's events so far, then live ones, until one that ``closes``."""
        with self.subscribe(run_id) as subscription:
            while True:
                event = await subscription.next()
                yield event
                if event.closes:
                    return

    @property
    def runs(self) -> int:
        """Runs remembered right now."""
        return len(self._runs)

    def _run(self, run_id: str) -> _Run:
        run = self._runs.get(run_id)
        if run is None:
            run = self._runs[run_id] = _Run(self._max_text)
        self._runs.move_to_end(run_id)
        self._evict(keep=run_id)
        return run

    def _evict(self, keep: str = "") -> None:
        """Forget the least recently active unwatched runs beyond ``max_runs``."""
        excess = len(self._runs) - self._max_runs
        idle = [r for r, run in self._runs.items() if not run.subscriptions and r != keep]
        for run_id in idle[: max(0, excess)]:
            del self._runs[run_id]
