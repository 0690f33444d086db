"""OpenAIChat against a real loopback OpenAI-compatible server: requests, replies, errors."""

import logging
import socket

import pytest

from bot.errors import LLMError
from bot.llm.openai_chat import OpenAIChat
from bot.ports import ChatMessage
from tests.support.llm_server import (
    MODERATIONS,
    FakeOpenAIServer,
    Reply,
    completion,
    error,
    moderation,
)

MESSAGES = [
    ChatMessage("system", "You write one short joke."),
    ChatMessage("user", "cats"),
    ChatMessage("assistant", "Why did the cat sit on the laptop? To keep an eye on the mouse."),
    ChatMessage("user", "another one"),
]


def make_chat(
    base_url: str, *, timeout: float = 2.0, max_retries: int = 2, moderation: bool | None = None
) -> OpenAIChat:
    return OpenAIChat(
        model="test-model",
        api_key="sk-test",
        base_url=base_url,
        timeout=timeout,
        max_retries=max_retries,
        moderation=moderation,
    )


async def complete_error(
    base_url: str, match: str | None = None, *, timeout: float = 2.0, max_retries: int = 2
) -> LLMError:
    """The LLMError (matching ``match``) that one ``complete`` raises; the client is closed."""
    llm = make_chat(base_url, timeout=timeout, max_retries=max_retries)
    try:
        with pytest.raises(LLMError, match=match) as info:
            await llm.complete(MESSAGES[:2])
    finally:
        await llm.close()
    return info.value


async def test_complete_returns_text_and_sends_the_request(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    server.script(completion("Why did the cat nap? It was purr-fectly tired."))

    text = await chat.complete(MESSAGES, temperature=0.7, max_tokens=60, seed=42)

    assert text == "Why did the cat nap? It was purr-fectly tired."
    [request] = server.chat_requests()
    assert request.headers["authorization"] == "Bearer sk-test"
    assert request.json["model"] == "test-model"
    assert request.json["temperature"] == 0.7
    assert request.json["max_tokens"] == 60
    assert request.json["seed"] == 42
    assert request.json["messages"] == [{"role": m.role, "content": m.content} for m in MESSAGES]


async def test_complete_without_seed_sends_no_seed(
    server: FakeOpenAIServer, chat: OpenAIChat
) -> None:
    await chat.complete(MESSAGES[:2])

    [request] = server.chat_requests()
    assert "seed" not in request.json
    assert request.json["temperature"] == 0.8


async def test_placeholder_key_when_none_given(server: FakeOpenAIServer) -> None:
    llm = OpenAIChat(model="llama3.2", base_url=server.base_url)
    try:
        await llm.complete(MESSAGES[:2])
    finally:
        await llm.close()

    assert server.chat_requests()[0].headers["authorization"] == "Bearer no-key"


@pytest.mark.parametrize(
    ("reply", "kind", "fragment"),
    [
        (error(401, "Incorrect API key provided", "invalid_api_key"), "auth", "OPENAI_API_KEY"),
        (error(403, "forbidden"), "auth", "refused the API key (403)"),
        (
            error(404, "The model `test-model` does not exist", "model_not_found"),
            "unknown_model",
            "no model 'test-model'",
        ),
        (
            error(404, 'model "test-model" not found, try pulling it first'),
            "unknown_model",
            "OPENAI_MODEL",
        ),
        (Reply(404, b"404 page not found", content_type="text/plain"), "unreachable", "/v1"),
        (error(400, "max_tokens is too large"), "bad_response", "max_tokens is too large"),
        (
            Reply(200, b'{"choices": [', content_type="application/json"),
            "bad_response",
            "malformed",
        ),
        (
            Reply(200, b"<html>hello</html>", content_type="text/html"),
            "bad_response",
            "chat completion",
        ),
        (
            Reply(
                200,
                {"id": "x", "object": "chat.completion", "created": 1, "model": "m", "choices": []},
            ),
            "bad_response",
            "no choices",
        ),
        (completion(None), "bad_response", "no text"),
    ],
)
async def test_complete_maps_failures_to_llm_error(
    server: FakeOpenAIServer, chat: OpenAIChat, reply: Reply, kind: str, fragment: str
) -> None:
    server.script(reply)

    with pytest.raises(LLMError) as info:
        await chat.complete(MESSAGES[:2])

    assert info.value.kind == kind
    assert fragment in str(info.value)
    assert "sk-test" not in str(info.value)
    assert len(server.chat_requests()) == 1  # none of these is retried


async def test_rate_limit_honours_retry_after_then_succeeds(server: FakeOpenAIServer) -> None:
    server.script(error(429, "slow down", retry_after="0.01"), completion("finally"))
    llm = make_chat(server.base_url, max_retries=2)
    try:
        text = await llm.complete(MESSAGES[:2])
    finally:
        await llm.close()

    assert text == "finally"
    assert len(server.chat_requests()) == 2


@pytest.mark.parametrize(
    ("max_retries", "headers"), [(2, {"retry_after_ms": "5"}), (1, {}), (0, {})]
)
async def test_rate_limit_gives_up_after_configured_retries(
    server: FakeOpenAIServer, max_retries: int, headers: dict[str, str]
) -> None:
    server.script(*[error(429, "slow down", "rate_limit_exceeded", **headers)] * 5)
    failure = await complete_error(server.base_url, max_retries=max_retries)

    assert failure.kind == "rate_limited"
    assert "rate limited (429)" in str(failure)
    assert len(server.chat_requests()) == 1 + max_retries


async def test_quota_exceeded_is_named(server: FakeOpenAIServer) -> None:
    server.script(
        error(429, "You exceeded your current quota", "insufficient_quota", x_should_retry="false")
    )
    failure = await complete_error(server.base_url, "quota exceeded", max_retries=2)

    assert failure.kind == "rate_limited"


async def test_server_error_is_retried_then_reported(server: FakeOpenAIServer) -> None:
    server.script(*[error(500, "boom", retry_after_ms="5")] * 3)
    failure = await complete_error(server.base_url, r"failing \(500\)", max_retries=1)

    assert failure.kind == "unavailable"
    assert len(server.chat_requests()) == 2


async def test_timeout_is_reported(server: FakeOpenAIServer) -> None:
    server.script(Reply(body=completion("late").body, delay=0.8))
    failure = await complete_error(
        server.base_url, r"did not answer within 0.2 s \(LLM_TIMEOUT\)", timeout=0.2, max_retries=0
    )

    assert failure.kind == "timeout"


async def test_unreachable_base_url() -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    failure = await complete_error(
        f"http://127.0.0.1:{port}/v1", f"cannot connect to 127.0.0.1:{port}", max_retries=0
    )

    assert failure.kind == "unreachable"


@pytest.mark.parametrize(
    ("base_url", "label"),
    [
        (None, "gpt-4o-mini via OpenAI"),
        ("https://api.openai.com/v1/", "gpt-4o-mini via OpenAI"),
        ("http://localhost:11434/v1", "gpt-4o-mini via localhost:11434"),
    ],
)
async def test_label_names_model_and_host(base_url: str | None, label: str) -> None:
    llm = OpenAIChat(api_key="k", base_url=base_url)
    try:
        assert llm.label == label
        assert llm.model_id == "gpt-4o-mini"
        assert llm.wants_avoid_list is True
    finally:
        await llm.close()


async def test_moderate_is_none_for_other_hosts(server: FakeOpenAIServer, chat: OpenAIChat) -> None:
    assert await chat.moderate("a joke") is None

    assert server.requests == []


@pytest.mark.parametrize("flagged", [True, False])
async def test_moderate_reports_the_flag(server: FakeOpenAIServer, flagged: bool) -> None:
    server.script(moderation(flagged), path=MODERATIONS)
    llm = make_chat(server.base_url, moderation=True)
    try:
        result = await llm.moderate("a joke")
    finally:
        await llm.close()

    assert result is flagged
    [request] = server.requests
    assert request.path == MODERATIONS
    assert request.json["input"] == "a joke"


async def test_moderate_failure_returns_none_and_logs(
    server: FakeOpenAIServer, caplog: pytest.LogCaptureFixture
) -> None:
    server.script(error(500, "moderation down"), path=MODERATIONS)
    llm = make_chat(server.base_url, moderation=True, max_retries=2)
    try:
        with caplog.at_level(logging.WARNING, logger="bot.llm.openai_chat"):
            result = await llm.moderate("a joke")
    finally:
        await llm.close()

    assert result is None
    assert "moderation" in caplog.text
    assert len(server.requests) == 1  # no retries: moderation never holds up a draft
