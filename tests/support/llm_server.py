"""A scripted OpenAI-compatible HTTP server on 127.0.0.1:0 for LLM client tests.

Serves ``POST /v1/chat/completions`` and ``POST /v1/moderations`` from per-path scripts of
:class:`Reply`; records every request. Runs in a thread (stdlib only) so the real openai
client talks to it over a real socket, retries and timeouts included.

A chat request with ``"stream": true`` gets what the OpenAI API sends: ``text/event-stream``
in chunked encoding, one ``data: {chat.completion.chunk}`` event per piece (the first carries
the role, the last an empty delta and the ``finish_reason``; with
``stream_options.include_usage`` a last chunk with no choices and the usage), then
``data: [DONE]``. A scripted completion is cut into word pieces; :func:`streamed` scripts the
pieces, a pause, an error event mid-stream or a dropped connection.
"""

import json
import re
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

CHAT = "/v1/chat/completions"
MODERATIONS = "/v1/moderations"
NO_ROUTE = {"error": {"message": "no route"}}


@dataclass(frozen=True)
class StreamScript:
    """How a reply streams: its pieces and what goes wrong after ``fail_after`` of them."""

    pieces: tuple[str, ...]
    finish_reason: str = "stop"
    fail_after: int | None = None  # pieces sent before ``failure``
    failure: str = "error"  # "error": an error event, then the end; "cut": the connection drops
    gap: float = 0.0  # seconds between two pieces
    hold: threading.Event | None = None  # after ``fail_after`` pieces, wait for this instead

    @property
    def text(self) -> str:
        """The whole reply."""
        return "".join(self.pieces)


@dataclass(frozen=True)
class Reply:
    """One scripted HTTP answer; ``body`` is JSON-encoded unless it is bytes."""

    status: int = 200
    body: Any = None
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0  # seconds to stall before answering (timeouts)
    content_type: str = "application/json"
    stream: StreamScript | None = None  # how the reply streams to a ``stream: true`` request


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


def streamed(
    *pieces: str,
    finish_reason: str = "stop",
    fail_after: int | None = None,
    failure: str = "error",
    gap: float = 0.0,
    hold: threading.Event | None = None,
) -> Reply:
    """A reply streamed as exactly these pieces (a non-streaming request gets them joined)."""
    script = StreamScript(tuple(pieces), finish_reason, fail_after, failure, gap, hold)
    reply = completion(script.text)
    return Reply(body=reply.body, stream=script)


def pieces_of(text: str) -> tuple[str, ...]:
    """``text`` cut the way tokenizers cut it: words with their leading space."""
    return tuple(re.findall(r"\s*\S+|\s+", text))


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
        self.sent: list[str] = []  # pieces streamed so far, over every request
        self._sent_changed = threading.Condition()
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

    def wait_sent(self, count: int, timeout: float = 10.0) -> bool:
        """Block until ``count`` pieces have been streamed in all (False on timeout)."""
        with self._sent_changed:
            return self._sent_changed.wait_for(lambda: len(self.sent) >= count, timeout)

    def record_sent(self, piece: str) -> None:
        with self._sent_changed:
            self.sent.append(piece)
            self._sent_changed.notify_all()

    def stall(self, seconds: float) -> None:
        """Sleep, but wake at once when the server closes (teardown never waits)."""
        self._closing.wait(seconds)

    @property
    def closing(self) -> bool:
        """True once the server is shutting down."""
        return self._closing.is_set()

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
            # the API validates the request first: a refused one uses up no scripted reply
            refusal = _stream_params_error(payload) if self.path == CHAT else None
            reply = refusal or server.next_reply(self.path) or Reply(404, NO_ROUTE)
            if reply.delay:
                server.stall(reply.delay)
            if isinstance(payload, dict) and payload.get("stream") is True and reply.status == 200:
                self._stream(reply, payload)
            else:
                self._send(reply)

        def _stream(self, reply: Reply, request: dict[str, Any]) -> None:
            body = reply.body
            script = reply.stream or StreamScript(
                pieces_of(body["choices"][0]["message"]["content"])
            )
            usage = bool((request.get("stream_options") or {}).get("include_usage"))
            chunk = _Chunks(str(body.get("model", "test-model")), usage)
            try:
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream; charset=utf-8")
                self.send_header("Transfer-Encoding", "chunked")
                self.send_header("Cache-Control", "no-cache")
                self.end_headers()
                self._event(chunk.make({"role": "assistant", "content": "", "refusal": None}))
                for n, piece in enumerate(script.pieces):
                    if n == script.fail_after and self._fail(script):
                        return
                    if n and script.gap:
                        server.stall(script.gap)
                    self._event(chunk.make({"content": piece}))
                    server.record_sent(piece)
                if script.fail_after == len(script.pieces) and self._fail(script):
                    return
                self._event(chunk.make({}, script.finish_reason))
                if usage:
                    self._event(chunk.usage(len(script.pieces)))
                self._event("[DONE]")
                self.wfile.write(b"0\r\n\r\n")  # the last chunk of the chunked body
                self.wfile.flush()
            except OSError:
                self.close_connection = True  # the client hung up mid-stream

        def _fail(self, script: StreamScript) -> bool:
            """Break the stream as scripted; True when the response is over."""
            if script.hold is not None:
                while not script.hold.wait(0.02):
                    if server.closing:
                        break
                return False  # released: carry on streaming
            if script.failure == "cut":
                self.close_connection = True  # no last chunk: the body is incomplete
                return True
            error = {
                "message": "The server had an error while processing your request.",
                "type": "server_error",
                "param": None,
                "code": None,
            }
            self._event(json.dumps({"error": error}))
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()
            return True

        def _event(self, data: str) -> None:
            event = f"data: {data}\n\n".encode()
            self.wfile.write(f"{len(event):X}\r\n".encode() + event + b"\r\n")
            self.wfile.flush()

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


class _Chunks:
    """``chat.completion.chunk`` events of one streamed reply, as the OpenAI API shapes them."""

    def __init__(self, model: str, usage: bool) -> None:
        self._model, self._usage = model, usage

    def make(self, delta: dict[str, Any], finish_reason: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish_reason}
        return json.dumps(self._base() | {"choices": [choice]})

    def usage(self, completion_tokens: int) -> str:
        tokens = {"prompt_tokens": 20, "completion_tokens": completion_tokens}
        tokens["total_tokens"] = 20 + completion_tokens
        return json.dumps(self._base() | {"choices": [], "usage": tokens})

    def _base(self) -> dict[str, Any]:
        base: dict[str, Any] = {
            "id": "chatcmpl-1",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": self._model,
            "system_fingerprint": None,
        }
        return base | ({"usage": None} if self._usage else {})


def _stream_params_error(payload: Any) -> Reply | None:
    """The 400 the OpenAI API answers for malformed ``stream`` / ``stream_options``."""
    if not isinstance(payload, dict):
        return None
    stream = payload.get("stream", False)
    if not isinstance(stream, bool):
        return _invalid("Invalid type for 'stream': expected a boolean.", "stream")
    options = payload.get("stream_options")
    if options is not None and not stream:
        message = "The 'stream_options' parameter is only allowed when 'stream' is enabled."
        return _invalid(message, "stream_options")
    if options is not None and not isinstance(options, dict):
        return _invalid("Invalid type for 'stream_options': expected an object.", "stream_options")
    return None


def _invalid(message: str, param: str) -> Reply:
    body = {
        "error": {"message": message, "type": "invalid_request_error", "param": param, "code": None}
    }
    return Reply(400, body)
