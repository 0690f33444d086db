"""An OpenAI-compatible streaming endpoint over the embedded model, for bench/llm.py.

``POST /v1/chat/completions`` with ``"stream": true`` answers with llama.cpp's own
OpenAI-shaped chunks as server-sent events (``data: {...}``, then ``data: [DONE]``), one per
generated token, as ``llama_cpp.server`` would; the server thread is the only user of its
``Llama``. Loopback only; stdlib HTTP (the ``[server]`` extra of llama-cpp-python is not
installed).
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any, Self

from llama_cpp import Llama

from bot.llm.embedded import find_model_path


class LocalOpenAIServer:
    """The embedded model behind ``http://127.0.0.1:<port>/v1``; a context manager."""

    def __init__(self, n_threads: int = 2) -> None:
        self.llama = Llama(
            model_path=find_model_path(), n_ctx=1024, n_threads=n_threads, verbose=False
        )
        self._lock = threading.Lock()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(self))
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        """The ``.../v1`` URL to give the openai client."""
        return f"http://127.0.0.1:{self._httpd.server_address[1]}/v1"

    def chunks(self, request: dict[str, Any]) -> Any:
        """llama.cpp's streamed chunks for one request (one generation at a time)."""
        with self._lock:
            yield from self.llama.create_chat_completion(
                messages=request["messages"],
                max_tokens=request.get("max_tokens"),
                temperature=request.get("temperature", 0.8),
                seed=request.get("seed"),
                stream=True,
            )

    def __enter__(self) -> Self:
        self._thread.start()
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)
        self.llama.close()


def _handler(server: LocalOpenAIServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            request = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))))
            if not self.path.endswith("/chat/completions") or request.get("stream") is not True:
                self.send_error(404, "this bench server only streams chat completions")
                return
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream; charset=utf-8")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            for chunk in server.chunks(request):
                self._event(json.dumps(chunk))
            self._event("[DONE]")
            self.wfile.write(b"0\r\n\r\n")
            self.wfile.flush()

        def _event(self, data: str) -> None:
            body = f"data: {data}\n\n".encode()
            self.wfile.write(f"{len(body):X}\r\n".encode() + body + b"\r\n")
            self.wfile.flush()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    return Handler
