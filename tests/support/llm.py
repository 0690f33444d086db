"""FakeLLM, a scripted bot.ports.LLM that records every call, and GatedLLM, a slow one."""

import asyncio
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.errors import LLMError
from bot.ports import ChatMessage, OnDelta


@dataclass(frozen=True)
class LLMCall:
    """One recorded ``complete`` call."""

    messages: tuple[ChatMessage, ...]
    temperature: float
    max_tokens: int
    seed: int | None
    on_delta: OnDelta | None = None

    @property
    def system(self) -> str:
        """The system prompt(s) joined, or empty."""
        return "\n".join(m.content for m in self.messages if m.role == "system")

    @property
    def user(self) -> str:
        """The last user message, or empty."""
        users = [m.content for m in self.messages if m.role == "user"]
        return users[-1] if users else ""

    @property
    def text(self) -> str:
        """Every message's content joined: handy for ``"x" in call.text`` assertions."""
        return "\n".join(m.content for m in self.messages)


def words(text: str) -> list[str]:
    """``text`` in the pieces a model streams: words with their leading whitespace."""
    return re.findall(r"\s*\S+|\s+", text)


class FakeLLM:
    """Scripted chat model.

    ``complete`` first raises ``error`` (default: an ``LLMError("unreachable", ...)``)
    ``fail_times`` times, then returns ``replies`` in order; the last reply repeats once
    the script runs out. An ``LLMError`` instance in ``replies`` is raised at its turn.
    ``moderation`` maps a substring to the flag ``moderate`` returns (None: no moderation).
    With ``on_delta`` a reply is streamed as its words (each with its leading space).
    """

    def __init__(
        self,
        *replies: str | LLMError,
        fail_times: int = 0,
        error: LLMError | None = None,
        label: str = "FakeLLM (scripted test model)",
        model_id: str = "fake-llm",
        wants_avoid_list: bool = True,
        moderation: dict[str, bool] | None = None,
    ) -> None:
        self._replies = list(replies) or ["Why did the test pass? Because it was faked!"]
        self._fail_times = fail_times
        self._error = error or LLMError("unreachable", "FakeLLM: scripted failure")
        self._label = label
        self._model_id = model_id
        self._wants_avoid_list = wants_avoid_list
        self._moderation = moderation
        self.calls: list[LLMCall] = []
        self.moderated: list[str] = []

    @property
    def label(self) -> str:
        return self._label

    @property
    def model_id(self) -> str:
        return self._model_id

    @property
    def wants_avoid_list(self) -> bool:
        return self._wants_avoid_list

    @property
    def messages(self) -> list[tuple[ChatMessage, ...]]:
        """The messages of every call, in order."""
        return [c.messages for c in self.calls]

    def fail_next(self, times: int) -> None:
        """Fail the next ``times`` calls with ``error`` (0: answer again): the model goes down."""
        self._fail_times = times

    @property
    def call_count(self) -> int:
        """How many times ``complete`` was called (failures included)."""
        return len(self.calls)

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.8,
        max_tokens: int = 80,
        seed: int | None = None,
        on_delta: OnDelta | None = None,
    ) -> str:
        self.calls.append(LLMCall(tuple(messages), temperature, max_tokens, seed, on_delta))
        if self._fail_times > 0:
            self._fail_times -= 1
            raise self._error
        reply = self._replies.pop(0) if len(self._replies) > 1 else self._replies[0]
        if isinstance(reply, LLMError):
            raise reply
        if on_delta is not None:
            for piece in words(reply):
                on_delta(piece)
        return reply

    async def moderate(self, text: str) -> bool | None:
        self.moderated.append(text)
        if self._moderation is None:
            return None
        return any(flag for needle, flag in self._moderation.items() if needle in text)


class GatedLLM(FakeLLM):
    """A FakeLLM whose answers wait for ``release`` (a slow model); ``started`` marks a call."""

    def __init__(self, *replies: str) -> None:
        super().__init__(*replies)
        self.started = asyncio.Event()
        self.release = asyncio.Event()

    async def complete(self, *args: Any, **kwargs: Any) -> str:
        self.started.set()
        await self.release.wait()
        return await super().complete(*args, **kwargs)
