"""ObservedLLM: wraps the configured LLM to time every completion and remember how the last went.

Health checks read :meth:`ObservedLLM.health` instead of calling the provider: the embedded
model is ready once loaded; a remote endpoint is judged by its last completion (no network
call per probe). Metrics get each call's latency and failure kind through ``on_call``.
"""

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from bot.errors import LLMError
from bot.llm.embedded import EmbeddedChat
from bot.ports import LLM, ChatMessage, Clock, OnDelta

OnCall = Callable[[float, str | None], None]  # (seconds, failure kind or None)


@dataclass(frozen=True)
class LastCall:
    """How the most recent completion went."""

    at: float
    seconds: float
    error_kind: str | None = None  # an LLMError kind; "error" for anything else
    error: str = ""


class ObservedLLM:
    """An LLM that records each completion's outcome; otherwise exactly the wrapped one."""

    def __init__(self, llm: LLM, clock: Clock, on_call: OnCall | None = None) -> None:
        self.inner, self._clock, self._on_call = llm, clock, on_call
        self.last: LastCall | None = None

    @property
    def label(self) -> str:
        return self.inner.label

    @property
    def model_id(self) -> str:
        return self.inner.model_id

    @property
    def wants_avoid_list(self) -> bool:
        return self.inner.wants_avoid_list

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.8,
        max_tokens: int = 80,
        seed: int | None = None,
        on_delta: OnDelta | None = None,
    ) -> str:
        started = time.perf_counter()
        try:
            text = await self.inner.complete(
                messages,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=seed,
                on_delta=on_delta,
            )
        except LLMError as exc:
            self._record(started, exc.kind, str(exc))
            raise
        except Exception as exc:  # recorded, then raised unchanged (a cancellation is not)
            self._record(started, "error", type(exc).__name__)
            raise
        self._record(started, None, "")
        return text

    def _record(self, started: float, kind: str | None, error: str) -> None:
        seconds = time.perf_counter() - started
        self.last = LastCall(self._clock.now(), seconds, kind, error)
        if self._on_call is not None:
            self._on_call(seconds, kind)

    async def moderate(self, text: str) -> bool | None:
        return await self.inner.moderate(text)

    def health(self) -> tuple[bool, str]:
        """Whether the model can answer, as far as we know without calling it, and why."""
        if isinstance(self.inner, EmbeddedChat):
            loaded = self.inner.loaded
            return loaded, "embedded model loaded" if loaded else "embedded model not loaded"
        last = self.last
        if last is None:
            return True, "no completion yet"
        ago = max(0.0, self._clock.now() - last.at)
        if last.error_kind is None:
            return True, f"last completion ok {ago:.0f} s ago ({last.seconds:.2f} s)"
        return False, f"last completion failed {ago:.0f} s ago ({last.error_kind}): {last.error}"
