"""End to end on the real embedded model: a watcher sees the draft written token by token."""

import asyncio
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.llm import EmbeddedChat
from bot.models import Actor, DraftEvent, DraftStage, JokeRequest, Origin, RequestStatus
from tests.support.clock import FakeClock
from tests.support.platform import FakePlatform
from tests.support.stack import joke_stack

pytestmark = pytest.mark.embedded
ORIGIN = Origin("fake", "g", Actor("fake", "u1", "@ann"), "mods", "fun", "general")


async def test_embedded_model_streams_the_draft_to_a_watcher(tmp_path: Path) -> None:
    platform = FakePlatform(FakeClock())
    llm = EmbeddedChat()
    timed: list[tuple[float, DraftEvent]] = []

    async def watch(events: AsyncIterator[DraftEvent]) -> None:
        async for event in events:
            timed.append((time.perf_counter(), event))

    try:
        async with joke_stack(tmp_path, llm=llm, serve=False) as stack:
            stack.register("fake", platform)
            result = await stack.service.request_joke(JokeRequest("k1", ORIGIN, "cats"))
            assert result.status == RequestStatus.ACCEPTED
            assert result.run_id is not None
            watcher = asyncio.create_task(watch(stack.service.watch(result.run_id)))
            await asyncio.sleep(0)
            await stack.drain()
            await asyncio.wait_for(watcher, 60)
    finally:
        await llm.close()

    events = [e for _, e in timed]
    [card] = platform.cards(result.run_id)
    draft = str(card.payload["card"]["draft"])
    assert events[-1] == DraftEvent(DraftStage.FINISHED, events[-1].attempt, draft)
    last_start = max(i for i, e in enumerate(events) if e.stage == DraftStage.STARTED)
    deltas = [(t, e) for t, e in timed[last_start:] if e.stage == DraftStage.DELTA]
    assert len(deltas) >= 3  # a word at a time
    assert deltas[-1][0] - deltas[0][0] > 0.01  # spread over the generation, not all at once
    shown = "".join(e.text for _, e in deltas)
    assert set(draft.split()[:2]) <= set(shown.split())  # the page showed the joke's words
