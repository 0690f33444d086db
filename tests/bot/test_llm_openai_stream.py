"""OpenAIChat streaming (``stream=True``) against the loopback server's real SSE chunks."""

import json
import socket
import threading

import pytest

from bot.errors import LLMError
from bot.llm.openai_chat import OpenAIChat
from bot.llm.probe import ObservedLLM
from bot.ports import ChatMessage
from tests.support.clock import FakeClock
from tests.support.llm_server import FakeOpenAIServer, completion, error, streamed

MESSAGES = [ChatMessage("system", "You write one short joke."), ChatMessage("user", "cats")]


async def test_stream_delivers_each_piece_and_returns_the_whole_reply(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(streamed("Why did", " the cat", " nap?", " Purr-fect", " timing."))
    deltas: list[str] = []

    text = await chat.complete(MESSAGES, seed=3, on_delta=deltas.append)

    assert deltas == ["Why did", " the cat", " nap?", " Purr-fect", " timing."]
    assert text == "Why did the cat nap? Purr-fect timing."
    [request] = server.chat_requests()
    assert request.json["stream"] is True
    assert request.json["seed"] == 3
    assert request.json["max_tokens"] == 80


async def test_without_on_delta_the_request_does_not_stream(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(streamed("One", " joke."))

    text = await chat.complete(MESSAGES)

    assert text == "One joke."
    assert "stream" not in server.chat_requests()[0].json


async def test_a_plain_scripted_completion_streams_as_words(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(completion("Why do cows wear bells? Their horns don't work."))
    deltas: list[str] = []

    text = await chat.complete(MESSAGES, on_delta=deltas.append)

    assert deltas[:3] == ["Why", " do", " cows"]
    assert "".join(deltas) == text == "Why do cows wear bells? Their horns don't work."


async def test_deltas_arrive_while_the_reply_is_still_being_written(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    hold = threading.Event()
    server.script(streamed("Why", " did", " it", " stop?", fail_after=2, hold=hold))
    seen: list[str] = []

    def on_delta(piece: str) -> None:
        seen.append(piece)
        if len(seen) == 2:
            # the server is held after two pieces and has sent no more yet (it records a piece
            # just after writing it, so " did" may reach us before it is recorded)
            assert server.sent in (["Why"], ["Why", " did"])
            hold.set()

    text = await chat.complete(MESSAGES, on_delta=on_delta)

    assert text == "Why did it stop?"


async def test_an_error_event_mid_stream_is_an_llm_error_after_the_partial_text(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(streamed("Why", " did", " the", fail_after=2))
    deltas: list[str] = []

    with pytest.raises(LLMError, match="failed mid-reply") as info:
        await chat.complete(MESSAGES, on_delta=deltas.append)

    assert info.value.kind == "unavailable"
    assert deltas == ["Why", " did"]
    assert len(server.chat_requests()) == 1  # a broken stream is not retried by the client


async def test_a_connection_dropped_mid_stream_is_unreachable(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(streamed("Why", " did", " the", fail_after=1, failure="cut"))
    deltas: list[str] = []

    with pytest.raises(LLMError) as info:
        await chat.complete(MESSAGES, on_delta=deltas.append)

    assert info.value.kind == "unreachable"
    assert deltas == ["Why"]


async def test_an_error_before_the_stream_starts_is_retried_then_streams(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(error(503, "overloaded", retry_after="0"), streamed("Fine", " now."))
    deltas: list[str] = []

    text = await chat.complete(MESSAGES, on_delta=deltas.append)

    assert text == "Fine now."
    assert deltas == ["Fine", " now."]
    assert len(server.chat_requests()) == 2


async def test_a_stream_without_a_finish_reason_is_refused(chat: OpenAIChat) -> None:
    # a server that closes the stream cleanly but never says the reply is complete
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        port = listener.getsockname()[1]
        thread = threading.Thread(target=_half_stream, args=(listener,), daemon=True)
        thread.start()
        llm = OpenAIChat(
            model="m", api_key="k", base_url=f"http://127.0.0.1:{port}/v1", max_retries=0
        )
        try:
            with pytest.raises(LLMError, match="ended the reply stream early"):
                await llm.complete(MESSAGES, on_delta=lambda _: None)
        finally:
            await llm.close()
        thread.join(timeout=5)


def _half_stream(listener: socket.socket) -> None:
    conn, _ = listener.accept()
    with conn:
        conn.recv(65536)
        chunk = {
            "id": "c",
            "object": "chat.completion.chunk",
            "created": 1,
            "model": "m",
            "choices": [{"index": 0, "delta": {"content": "Half"}, "finish_reason": None}],
        }
        body = f"data: {json.dumps(chunk)}\n\ndata: [DONE]\n\n".encode()
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
            f"Content-Length: {len(body)}\r\nConnection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)


async def test_the_fake_refuses_stream_options_without_stream(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    # the fake is as strict as the API: this request is a 400, not a reply
    client = chat._client  # the SDK client itself, to send what OpenAIChat never would
    with pytest.raises(Exception, match="only allowed when 'stream' is enabled"):
        await client.chat.completions.create(
            model="test-model",
            messages=[{"role": "user", "content": "cats"}],
            stream_options={"include_usage": True},
        )


async def test_include_usage_ends_with_a_chunk_without_choices(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(streamed("Two", " words."))
    stream = await chat._client.chat.completions.create(
        model="test-model",
        messages=[{"role": "user", "content": "cats"}],
        stream=True,
        stream_options={"include_usage": True},
    )

    chunks = [chunk async for chunk in stream]

    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].delta.content for c in chunks[1:3]] == ["Two", " words."]
    assert chunks[3].choices[0].finish_reason == "stop"
    assert chunks[-1].choices == []
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens == 2


async def test_the_observed_llm_streams_through_and_records_a_broken_stream(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    calls: list[str | None] = []
    observed = ObservedLLM(chat, FakeClock(), lambda seconds, kind: calls.append(kind))
    server.script(streamed("Fine", " joke."), streamed("Broken", " jo", fail_after=1))
    deltas: list[str] = []

    text = await observed.complete(MESSAGES, on_delta=deltas.append)
    with pytest.raises(LLMError):
        await observed.complete(MESSAGES, on_delta=deltas.append)

    assert text == "Fine joke."
    assert deltas == ["Fine", " joke.", "Broken"]
    assert calls == [None, "unavailable"]
    assert observed.health()[0] is False  # the last completion failed midway


async def test_an_empty_streamed_reply_is_empty_text_as_without_streaming(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(streamed(), streamed())
    deltas: list[str] = []

    streamed_text = await chat.complete(MESSAGES, on_delta=deltas.append)
    plain_text = await chat.complete(MESSAGES)

    assert streamed_text == plain_text == ""  # the flow's screen calls it "empty"
    assert deltas == []
