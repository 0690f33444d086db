"""Watching a draft being written: the real joke flow, runtime and service on a SQLite file."""

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import pytest

from bot.app import open_core
from bot.errors import BadRequest, LLMError
from bot.joke import JokeOptions
from bot.joke.hygiene import blocked_term
from bot.models import (
    Actor,
    DecisionRequest,
    DraftEvent,
    DraftStage,
    JokeRequest,
    Origin,
    RequestStatus,
)
from tests.support.clock import FakeClock
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

ORIGIN = Origin("fake", "g", Actor("fake", "u1", "@ann"), "mods", "fun", "general")
MOD = Actor("fake", "m1", "@mod", is_moderator=True)
JOKE = "Why do cats never play poker in the jungle? Too many cheetahs!"
OTHER = "Why do cows wear bells? Because their horns don't work!"


@asynccontextmanager
async def stack_of(tmp_path: Path, llm: FakeLLM, **options: float) -> AsyncIterator[Stack]:
    opts = JokeOptions(cooldown_s=0.0, **options)  # type: ignore[arg-type]
    async with joke_stack(tmp_path, llm=llm, options=opts, serve=False) as stack:
        stack.register("fake", FakePlatform(stack.clock))
        yield stack


async def request(stack: Stack, key: str = "k1", topic: str = "cats") -> str:
    result = await stack.service.request_joke(JokeRequest(key, ORIGIN, topic))
    assert result.status == RequestStatus.ACCEPTED
    assert result.run_id is not None
    return result.run_id


async def watched(stack: Stack, run_id: str) -> list[DraftEvent]:
    return [event async for event in stack.service.watch(run_id)]


def texts(events: list[DraftEvent]) -> list[str]:
    """The text a page shows after each draft: deltas since the last start, joined."""
    shown: list[str] = []
    for event in events:
        if event.stage == DraftStage.STARTED:
            shown.append("")
        elif event.stage == DraftStage.DELTA:
            shown[-1] += event.text
    return shown


async def first_event(events: AsyncIterator[DraftEvent]) -> DraftEvent:
    async for event in events:
        return event
    raise AssertionError("no event")


async def until_sleeping(clock: FakeClock) -> None:
    for _ in range(10_000):
        if clock.sleepers:
            return
        await asyncio.sleep(0)
    raise AssertionError("nothing sleeps on the clock")


async def card_drafts(stack: Stack, run_id: str) -> list[str]:
    async with stack.store.read() as tx:
        run = await tx.get_run(run_id)
        assert run is not None
        assert run.wait_token is not None
        wait = await tx.get_wait(run.wait_token)
    assert wait is not None
    return [str(wait.payload["draft"])]


async def test_a_watcher_sees_the_draft_word_by_word_then_the_committed_draft(
    tmp_path: Path,
) -> None:
    async with stack_of(tmp_path, FakeLLM(JOKE)) as stack:
        run_id = await request(stack)
        watcher = asyncio.create_task(watched(stack, run_id))
        await asyncio.sleep(0)

        await stack.drain()
        events = await watcher
        drafts = await card_drafts(stack, run_id)

    assert events[0] == DraftEvent(DraftStage.STARTED, 1)
    deltas = [e for e in events if e.stage == DraftStage.DELTA]
    assert len(deltas) > 5  # word by word, not the joke at once
    assert texts(events) == [JOKE]
    assert events[-1] == DraftEvent(DraftStage.FINISHED, 1, JOKE)
    assert drafts == [JOKE]  # what watchers were told is what the card shows


async def test_a_late_watcher_gets_the_committed_draft_and_stops(tmp_path: Path) -> None:
    async with stack_of(tmp_path, FakeLLM(JOKE)) as stack:
        run_id = await request(stack)
        await stack.drain()

        events = await watched(stack, run_id)

    assert texts(events) == [JOKE]
    assert events[-1] == DraftEvent(DraftStage.FINISHED, 1, JOKE)


async def test_after_a_restart_the_queue_answers_for_the_forgotten_progress(
    tmp_path: Path,
) -> None:
    async with stack_of(tmp_path, FakeLLM(JOKE)) as stack:
        run_id = await request(stack)
        await stack.drain()
        await stack.restart()  # a new process: its hub never saw this run

        events = await watched(stack, run_id)

    assert events == [DraftEvent(DraftStage.FINISHED, 1, JOKE)]


async def test_a_screened_out_draft_is_announced_and_the_next_one_starts_over(
    tmp_path: Path,
) -> None:
    blocked = "Why did the nazi cross the road? To get to the other side!"
    assert blocked_term(blocked) is not None
    async with stack_of(tmp_path, FakeLLM(blocked, JOKE)) as stack:
        run_id = await request(stack)
        watcher = asyncio.create_task(watched(stack, run_id))
        await asyncio.sleep(0)
        await stack.drain()
        events = await watcher

    stages = [e.stage for e in events if e.stage != DraftStage.DELTA]
    assert stages == [
        DraftStage.STARTED,
        DraftStage.SCREENED,
        DraftStage.STARTED,
        DraftStage.FINISHED,
    ]
    screened = next(e for e in events if e.stage == DraftStage.SCREENED)
    assert screened.detail == "blocklist"
    assert not screened.final
    first, second = texts(events)
    assert first == "Why did the"  # shown up to the word before the blocked one, never it
    assert second == JOKE


async def test_the_last_screened_draft_is_final(tmp_path: Path) -> None:
    async with stack_of(tmp_path, FakeLLM("cats cats cats"), max_screen_retries=2) as stack:
        run_id = await request(stack)
        watcher = asyncio.create_task(watched(stack, run_id))
        await asyncio.sleep(0)
        await stack.drain()
        events = await watcher

    screened = [e for e in events if e.stage == DraftStage.SCREENED]
    assert [(e.detail, e.final) for e in screened] == [("unfinished", False), ("unfinished", True)]
    assert events[-1] == screened[-1]


async def test_a_model_failure_is_announced_and_the_retry_starts_a_new_draft(
    tmp_path: Path,
) -> None:
    llm = FakeLLM(JOKE, fail_times=1, error=LLMError("unreachable", "cannot connect"))
    async with stack_of(tmp_path, llm, retry_s=60.0) as stack:
        run_id = await request(stack)
        watcher = asyncio.create_task(watched(stack, run_id))
        await asyncio.sleep(0)
        await stack.drain()
        stack.clock.advance(60)
        await stack.drain()
        events = await watcher

    assert [e.stage for e in events if e.stage != DraftStage.DELTA] == [
        DraftStage.STARTED,
        DraftStage.FAILED,
        DraftStage.STARTED,
        DraftStage.FINISHED,
    ]
    failed = next(e for e in events if e.stage == DraftStage.FAILED)
    assert (failed.detail, failed.final) == ("cannot connect", False)
    assert texts(events) == ["", JOKE]


async def test_a_rejected_draft_is_followed_by_attempt_two(tmp_path: Path) -> None:
    platform = FakePlatform(FakeClock())
    async with joke_stack(tmp_path, llm=FakeLLM(JOKE, OTHER), serve=False) as stack:
        stack.register("fake", platform)
        run_id = await request(stack)
        await stack.drain()
        token = platform.latest_token(run_id)
        assert token is not None
        await stack.service.decide(DecisionRequest(token, "reject", MOD, "i1"))
        watcher = asyncio.create_task(watched(stack, run_id))
        await asyncio.sleep(0)
        await stack.drain()
        events = await watcher

    assert events[0] == DraftEvent(DraftStage.STARTED, 2)
    assert events[-1] == DraftEvent(DraftStage.FINISHED, 2, OTHER)


async def test_watching_an_unknown_run_is_a_bad_request(tmp_path: Path) -> None:
    async with stack_of(tmp_path, FakeLLM(JOKE)) as stack:
        with pytest.raises(BadRequest, match="no such request"):
            await watched(stack, "nope")


async def test_a_run_drafted_by_another_process_is_seen_through_the_store(
    tmp_path: Path,
) -> None:
    clock = FakeClock()
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    opts = JokeOptions(cooldown_s=0.0)
    async with (
        open_core(database_url=url, llm=FakeLLM(JOKE), clock=clock, options=opts) as drafter,
        open_core(database_url=url, llm=FakeLLM(JOKE), clock=clock, options=opts) as page,
    ):
        drafter.register_sender("fake", FakePlatform(clock))
        result = await drafter.service.request_joke(JokeRequest("k1", ORIGIN, "cats"))
        assert result.run_id is not None
        # the page's process drafts nothing: it learns of the draft from the store
        watcher = asyncio.create_task(first_event(page.service.watch(result.run_id)))
        await until_sleeping(clock)  # the watcher checked the store, now sleeps on the clock
        await drafter.runtime.drain()
        assert not watcher.done()

        clock.advance(2.0)  # the page asks the store again
        event = await asyncio.wait_for(watcher, 5)

    assert event == DraftEvent(DraftStage.FINISHED, 1, JOKE)
