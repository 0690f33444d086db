"""ProgressHub: per-run pub/sub of drafting progress, late watchers, bounded memory."""

import asyncio

from bot.models import DraftEvent, DraftStage
from bot.progress import ProgressHub, running

STARTED = DraftEvent(DraftStage.STARTED, 1)


def delta(text: str, attempt: int = 1) -> DraftEvent:
    return DraftEvent(DraftStage.DELTA, attempt, text)


def publish(hub: ProgressHub, run_id: str, *events: DraftEvent) -> None:
    with running(run_id):
        for event in events:
            hub.publish(event)


async def collect(hub: ProgressHub, run_id: str) -> list[DraftEvent]:
    return [event async for event in hub.watch(run_id)]


async def test_a_late_watcher_gets_the_text_so_far_then_the_live_events() -> None:
    hub = ProgressHub()
    publish(hub, "r1", STARTED, delta("Why did"), delta(" the cat"))

    watcher = asyncio.create_task(collect(hub, "r1"))
    await asyncio.sleep(0)
    publish(hub, "r1", delta(" nap?"), DraftEvent(DraftStage.FINISHED, 1, "Why did the cat nap?"))
    events = await watcher

    assert events == [
        STARTED,
        delta("Why did the cat"),
        delta(" nap?"),
        DraftEvent(DraftStage.FINISHED, 1, "Why did the cat nap?"),
    ]


async def test_a_watcher_after_the_end_gets_the_outcome_and_stops() -> None:
    hub = ProgressHub()
    finished = DraftEvent(DraftStage.FINISHED, 1, "Done.")
    publish(hub, "r1", STARTED, delta("Done."), finished)

    assert await collect(hub, "r1") == [STARTED, delta("Done."), finished]


async def test_a_new_start_replaces_the_old_text_for_late_watchers() -> None:
    hub = ProgressHub()
    screened = DraftEvent(DraftStage.SCREENED, 1, detail="duplicate")
    publish(hub, "r1", STARTED, delta("Old joke"), screened, STARTED, delta("New"))

    with hub.subscribe("r1") as subscription:
        replay = [await subscription.next() for _ in range(subscription.pending)]

    assert replay == [STARTED, delta("New")]


async def test_runs_are_kept_apart_and_events_outside_a_run_are_dropped() -> None:
    hub = ProgressHub()
    publish(hub, "r1", STARTED, delta("one"))
    publish(hub, "r2", DraftEvent(DraftStage.STARTED, 2), delta("two", 2))
    hub.publish(delta("nobody's"))  # no run bound: a flow run outside the runtime

    with hub.subscribe("r1") as one, hub.subscribe("r2") as two:
        assert [await one.next(), await one.next()] == [STARTED, delta("one")]
        assert [await two.next(), await two.next()] == [
            DraftEvent(DraftStage.STARTED, 2),
            delta("two", 2),
        ]
    assert hub.runs == 2


async def test_a_slow_watcher_is_resynchronised_instead_of_growing() -> None:
    hub = ProgressHub(buffer=8, max_text=100_000)
    with hub.subscribe("r1") as slow:
        publish(hub, "r1", STARTED, *(delta(f" w{i}") for i in range(1000)))

        assert slow.pending <= 8
        assert slow.resyncs > 0
        events = [await slow.next() for _ in range(slow.pending)]

    assert events[0] == STARTED  # a resync starts over: the page resets its text
    assert "".join(e.text for e in events[1:]) == "".join(f" w{i}" for i in range(1000))


async def test_the_text_kept_per_run_is_capped() -> None:
    hub = ProgressHub(max_text=50)
    with hub.subscribe("r1") as live:
        publish(hub, "r1", STARTED, *(delta("x" * 12) for _ in range(100)))
        seen = [await live.next() for _ in range(live.pending)]

    with hub.subscribe("r1") as late:
        replay = [await late.next() for _ in range(late.pending)]

    assert replay == [STARTED, delta("x" * 50)]
    assert "".join(e.text for e in seen[1:]) == "x" * 50  # live watchers see no more either


async def test_only_max_runs_unwatched_runs_are_remembered() -> None:
    hub = ProgressHub(max_runs=10)
    with hub.subscribe("watched"):
        for n in range(100):
            publish(hub, f"r{n}", STARTED, delta("text"))

        assert hub.runs <= 11
        assert hub.knows("r99")
        assert not hub.knows("r0")
        publish(hub, "watched", STARTED)
        assert hub.knows("watched")  # a watched run is never forgotten


async def test_a_final_event_ends_the_watch() -> None:
    hub = ProgressHub()
    gave_up = DraftEvent(DraftStage.FAILED, 1, detail="model down", final=True)
    retrying = DraftEvent(DraftStage.FAILED, 1, detail="model down")
    watcher = asyncio.create_task(collect(hub, "r1"))
    await asyncio.sleep(0)

    publish(hub, "r1", STARTED, retrying, STARTED, gave_up)

    assert await watcher == [STARTED, retrying, STARTED, gave_up]


async def test_a_watcher_that_leaves_is_unsubscribed() -> None:
    hub = ProgressHub(max_runs=0)
    publish(hub, "r1", STARTED)
    events = hub.watch("r1")

    assert await anext(events) == STARTED
    await events.aclose()
    publish(hub, "r2", STARTED)

    assert not hub.knows("r1")  # nobody watches it any more: forgotten
