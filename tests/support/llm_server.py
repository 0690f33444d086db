"""A scripted OpenAI-compatible HTTP server on 127.0.0.1:0 for LLM client tests.

Serves ``POST /v1/chat/completions`` and ``POST /v1/moderations`` from per-path scripts of
:class:`Reply`; records every request. Runs in a thread (stdlib only) so the real openai
client talks to it over a real socket, retries and timeouts included.
"""

import json
import threading
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

CHAT = "/v1/chat/completions"
MODERATIONS = "/v1/moderations"


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer; ``body`` is JSON-encoded unless it is bytes."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (timeouts)
    content_type: str = "application/json"


@dataclass(frozen=True)
class Recorded:
    """One request the server received."""

    method: str
    path: str
    headers: dict[str, str]
    json: Any


def completion(text: str | None, model: str = "test-model") -> Reply:
    """A successful chat completion whose first choice says ``text``."""
    return Reply(
        body={
            "id": "chatcmpl-1",
            "object": "chat.completion",
            "created": 1_700_000_000,
            "model": model,
            "choices": [
                {
                    "index": 0,
                    "finish_reason": "stop",
                    "message": {"role": "assistant", "content": text},
                }
            ],
        }
    )


def error(status: int, message: str, code: str | None = None, **headers: str) -> Reply:
    """An OpenAI-style error body; ``headers`` use ``_`` for ``-`` (``retry_after="0.01"``)."""
    body = {"error": {"message": message, "type": "error", "code": code, "param": None}}
    return Reply(status, body, {k.replace("_", "-"): v for k, v in headers.items()})


def moderation(flagged: bool) -> Reply:
    """A moderation result for one input."""
    result = {"flagged": flagged, "categories": {}, "category_scores": {}}
    return Reply(body={"id": "modr-1", "model": "omni-moderation-latest", "results": [result]})


class FakeOpenAIServer:
    """Scripted OpenAI-compatible server; use as a context manager."""

    def __init__(self) -> None:
        self.requests: list[Recorded] = []
        self._scripts: dict[str, deque[Reply]] = {CHAT: deque(), MODERATIONS: deque()}
        self._defaults = {CHAT: completion("Why did the server reply? To pass the test!")}
        self._defaults[MODERATIONS] = moderation(False)
        self._lock = threading.Lock()
        self._closing = threading.Event()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler_class(self))
        self._thread = threading.Thread(
            target=self._httpd.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True
        )

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:<port>/v1``."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def script(self, *replies: Reply, path: str = CHAT) -> None:
        """Queue replies for ``path``; once used up, the default reply answers."""
        with self._lock:
            self._scripts[path].extend(replies)

    def chat_requests(self) -> list[Recorded]:
        """Recorded chat completion requests, in order."""
        return [r for r in self.requests if r.path == CHAT]

    def next_reply(self, path: str) -> Reply | None:
        with self._lock:
            if path not in self._scripts:
                return None
            queue = self._scripts[path]
            return queue.popleft() if queue else self._defaults[path]

    def stall(self, seconds: float) -> None:
        """Sleep, but wake at once when the server closes (teardown never waits)."""
        self._closing.wait(seconds)

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._closing.set()
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)


class _QuietServer(ThreadingHTTPServer):
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # a client that hung up mid-request is part of the timeout tests


def _handler_class(server: FakeOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            raw = self.rfile.read(length)
            try:
                payload = json.loads(raw) if raw else None
            except ValueError:
                payload = raw.decode(errors="replace")
            headers = {k.lower(): v for k, v in self.headers.items()}
            server.requests.append(Recorded("POST", self.path, headers, payload))
            reply = server.next_reply(self.path) or Reply(404, {"error": {"message": "no route"}})
            if reply.delay:
                server.stall(reply.delay)
            self._send(reply)

        def _send(self, reply: Reply) -> None:
            body = reply.body if isinstance(reply.body, bytes) else json.dumps(reply.body).encode()
            try:
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                self.send_header("Content-Length", str(len(body)))
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)
            except OSError:
                pass  # the client gave up (timeout test): nothing to answer

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler
