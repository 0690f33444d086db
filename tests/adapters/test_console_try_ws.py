"""The "try it" WebSocket against the real service, a SQLite store and the fake OpenAI server.

The core runs inside the TestClient's event loop (its portal): the runtime serves in the
background, and the LLM is the real openai client streaming from the loopback server.
"""

import json
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import pytest
from fastapi import FastAPI, WebSocket
from starlette.testclient import TestClient, WebSocketTestSession
from starlette.websockets import WebSocketDisconnect

from adapters.console._try_ws import (
    CROSS_SITE,
    MALFORMED,
    NOT_SIGNED_IN,
    PATH,
    QUEUED,
    try_router,
)
from bot.joke import JokeOptions, prompts
from bot.llm import OpenAIChat
from bot.models import Actor, DraftStage, Origin, Surface
from bot.store import WaitStatus
from tests.support.classifier import FakeClassifier
from tests.support.llm_server import FakeOpenAIServer, streamed
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

ADMIN = Actor("console", "admin", "local admin")
ORIGIN = Origin("console", "web", ADMIN, "web", "web", "web", (Surface("console", "web"),))
PIECES = ("Why", " do", " cats", " never", " play", " poker?", " Too", " many", " cheetahs!")
JOKE = "".join(PIECES)
T = TypeVar("T")


@dataclass
class Try:
    """A running core behind a FastAPI app with the try router, and its test client."""

    client: TestClient
    server: FakeOpenAIServer
    stack: Stack | None = None
    signed_in: bool = True

    def connect(self, **headers: str) -> WebSocketTestSession:
        return self.client.websocket_connect(PATH, headers=headers)

    def call(self, fn: Callable[[str], Awaitable[T]], run_id: str) -> T:
        """Run ``fn(run_id)`` in the app's event loop, where the core lives."""
        assert self.client.portal is not None
        return self.client.portal.call(fn, run_id)

    async def card(self, run_id: str) -> dict[str, Any] | None:
        """The pending review card of ``run_id``."""
        assert self.stack is not None
        async with self.stack.store.read() as tx:
            run = await tx.get_run(run_id)
            token = None if run is None else run.wait_token
            wait = None if token is None else await tx.get_wait(token)
        if wait is None or wait.status != WaitStatus.PENDING:
            return None
        return dict(wait.payload)

    async def until_drafted(self, run_id: str) -> str:
        """Wait (on the service's own feed) until the run's draft is committed."""
        assert self.stack is not None
        async for event in self.stack.service.watch(run_id):
            if event.stage == DraftStage.FINISHED:
                return event.text
        raise AssertionError("the draft never finished")


def app_for(tmp_path: Path, server: FakeOpenAIServer) -> tuple[FastAPI, Try]:
    """An app whose lifespan opens the core (in the app's loop) and adds the try router."""
    app = FastAPI()

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        llm = OpenAIChat(model="test-model", base_url=server.base_url, timeout=10, max_retries=0)
        try:
            options = JokeOptions(cooldown_s=0.0)
            async with joke_stack(
                tmp_path, llm=llm, options=options, classifier=FakeClassifier()
            ) as stack:
                stack.register("console", FakePlatform(stack.clock))
                state.stack = stack
                app.include_router(try_router(stack.service, stack.service, origin_for))
                yield
        finally:
            await llm.close()

    def origin_for(websocket: WebSocket) -> Origin | None:
        return ORIGIN if state.signed_in else None

    app.router.lifespan_context = lifespan
    state = Try(TestClient(app), server)
    return app, state


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
def try_it(tmp_path: Path, server: FakeOpenAIServer) -> Iterator[Try]:
    _, state = app_for(tmp_path, server)
    with state.client:  # runs the lifespan: the core serves until the block ends
        yield state


def messages_until_close(ws: WebSocketTestSession) -> tuple[list[dict[str, Any]], int]:
    """Every JSON message the server sends, and the close code it ends with."""
    received: list[dict[str, Any]] = []
    while True:
        message = ws.receive()
        if message["type"] == "websocket.close":
            return received, int(message["code"])
        received.append(json.loads(message["text"]))


def test_try_streams_the_draft_then_says_it_is_in_the_queue(try_it: Try) -> None:
    try_it.server.script(streamed(*PIECES))

    with try_it.connect() as ws:
        ws.send_json({"topic": "cats"})
        received, code = messages_until_close(ws)

    accepted, *events, queued = received
    assert accepted["type"] == "accepted"
    run_id = accepted["run_id"]
    assert run_id.startswith("console:try:")
    assert events[0] == {"type": "started", "attempt": 1, "text": "", "detail": "", "final": False}
    deltas = [e["text"] for e in events if e["type"] == "delta"]
    assert len(deltas) > 3  # word by word
    assert "".join(deltas) == JOKE
    assert events[-1]["type"] == "finished"
    assert events[-1]["text"] == JOKE
    assert queued == {"type": "queued", "run_id": run_id, "message": QUEUED}
    assert code == 1000
    card = try_it.call(try_it.card, run_id)
    assert card is not None
    assert card["draft"] == JOKE  # the committed draft is what the page was shown
    [request] = try_it.server.chat_requests()
    assert request.json["stream"] is True
    assert "cats" in request.json["messages"][-1]["content"]


@pytest.mark.parametrize(
    "message",
    [
        "cats",
        "[]",
        '{"topic": 5}',
        '{"topic": "cats", "admin": true}',
        '{"type": "watch", "topic": "cats"}',
        '{"topic": "' + "x" * 3000 + '"}',
    ],
)
def test_try_answers_a_malformed_message_and_closes(try_it: Try, message: str) -> None:
    with try_it.connect() as ws:
        ws.send_text(message)
        received, code = messages_until_close(ws)

    assert received == [{"type": "error", "message": MALFORMED}]
    assert code == 1003
    assert try_it.server.chat_requests() == []


@pytest.mark.parametrize(
    ("topic", "answer"),
    [("   ", prompts.TOPIC_EMPTY), ("nazis", prompts.TOPIC_BLOCKED)],
)
def test_try_refuses_a_bad_topic_with_the_services_message(
    try_it: Try, topic: str, answer: str
) -> None:
    with try_it.connect() as ws:
        ws.send_json({"topic": topic})
        received, code = messages_until_close(ws)

    assert received == [{"type": "error", "message": answer}]
    assert code == 1000
    assert try_it.server.chat_requests() == []


def test_try_refuses_a_connection_nobody_signed_in_to(try_it: Try) -> None:
    try_it.signed_in = False

    with try_it.connect() as ws:
        received, code = messages_until_close(ws)

    assert received == [{"type": "error", "message": NOT_SIGNED_IN}]
    assert code == 1008


def test_a_page_that_leaves_mid_draft_does_not_stop_the_draft(try_it: Try) -> None:
    hold = threading.Event()
    try_it.server.script(streamed(*PIECES, fail_after=3, hold=hold))

    with try_it.connect() as ws:
        ws.send_json({"topic": "cats"})
        accepted = ws.receive_json()
        assert ws.receive_json()["type"] == "started"
        assert try_it.server.wait_sent(3)
    # the page is gone; the model goes on, and the draft is committed all the same
    hold.set()
    run_id = accepted["run_id"]

    assert try_it.call(try_it.until_drafted, run_id) == JOKE
    card = try_it.call(try_it.card, run_id)
    assert card is not None
    assert card["draft"] == JOKE


def test_a_second_message_during_the_draft_is_ignored(try_it: Try) -> None:
    try_it.server.script(streamed(*PIECES))

    with try_it.connect() as ws:
        ws.send_json({"topic": "cats"})
        ws.send_json({"topic": "dogs"})
        received, code = messages_until_close(ws)

    assert received[-1]["type"] == "queued"
    assert code == 1000
    assert len(try_it.server.chat_requests()) == 1


def test_disconnect_is_raised_on_a_closed_socket(try_it: Try) -> None:
    with try_it.connect() as ws:
        ws.send_text("nope")
        ws.receive_json()
        with pytest.raises(WebSocketDisconnect) as info:
            ws.receive_json()

    assert info.value.code == 1003


def test_try_refuses_a_page_of_another_site(try_it: Try) -> None:
    with try_it.connect(origin="https://evil.example") as ws:
        received, code = messages_until_close(ws)

    assert received == [{"type": "error", "message": CROSS_SITE}]
    assert code == 1008


def test_try_accepts_a_page_of_its_own_site(try_it: Try) -> None:
    try_it.server.script(streamed(*PIECES))

    with try_it.connect(origin="http://testserver") as ws:
        ws.send_json({"topic": "cats"})
        received, code = messages_until_close(ws)

    assert received[-1]["type"] == "queued"
    assert code == 1000
