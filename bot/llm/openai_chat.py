"""OpenAIChat: any OpenAI-compatible chat endpoint (OpenAI, Ollama, vLLM, LM Studio, ...)."""

import logging
from collections.abc import Sequence
from urllib.parse import urlsplit

import openai
from openai.types import ModerationCreateResponse
from openai.types.chat import (
    ChatCompletion,
    ChatCompletionAssistantMessageParam,
    ChatCompletionChunk,
    ChatCompletionMessageParam,
    ChatCompletionSystemMessageParam,
    ChatCompletionUserMessageParam,
)

from bot.errors import LLMError
from bot.llm._errors import to_llm_error
from bot.ports import ChatMessage, OnDelta

log = logging.getLogger(__name__)

OPENAI_BASE_URL = "https://api.openai.com/v1"


class OpenAIChat:
    """Chat completions through ``openai.AsyncOpenAI``; failures become :class:`LLMError`.

    Retries live in ONE layer, the SDK's (``max_retries``): it knows which failures are
    transient (connection errors, 408/409/429/5xx), honours ``Retry-After`` and never
    retries a bad key or an unknown model. This class adds no retry loop of its own.
    ``timeout`` applies to each attempt; with ``on_delta`` (``stream=True``) it bounds the
    wait for the answer to begin and every gap between two chunks (the SDK's read timeout).
    A stream that fails midway is not retried here: the flow's own retry decides.
    """

    def __init__(
        self,
        *,
        model: str = "gpt-4o-mini",
        api_key: str | None = None,
        base_url: str | None = None,
        timeout: float = 20.0,
        max_retries: int = 2,
        moderation: bool | None = None,
    ) -> None:
        """Create the client (no network yet).

        Args:
            model: the model name as the provider knows it.
            api_key: the key; a placeholder is sent when None (local servers need none).
            base_url: an OpenAI-compatible ``.../v1`` URL; None means api.openai.com.
            timeout: seconds per attempt.
            max_retries: SDK retries after the first attempt for transient failures.
            moderation: call the moderation endpoint; None means only on api.openai.com.
        """
        url = (base_url or OPENAI_BASE_URL).rstrip("/")
        self._host = urlsplit(url).netloc or url
        self._official = self._host == "api.openai.com"
        self._model = model
        self._timeout = timeout
        self._moderation = self._official if moderation is None else moderation
        # base_url is always explicit so the SDK never falls back to OPENAI_BASE_URL itself.
        self._client = openai.AsyncOpenAI(
            api_key=api_key or "no-key",
            base_url=url,
            timeout=timeout,
            max_retries=max_retries,
        )

    @property
    def label(self) -> str:
        return f"{self._model} via {'OpenAI' if self._official else self._host}"

    @property
    def model_id(self) -> str:
        return self._model

    @property
    def wants_avoid_list(self) -> bool:
        return True

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.8,
        max_tokens: int = 80,
        seed: int | None = None,
        on_delta: OnDelta | None = None,
    ) -> str:
        params = [to_param(m) for m in messages]
        try:
            if on_delta is not None:
                return await self._stream(params, temperature, max_tokens, seed, on_delta)
            # max_tokens, not max_completion_tokens: compatible servers know the older name.
            reply = await self._client.chat.completions.create(
                model=self._model,
                messages=params,
                temperature=temperature,
                max_tokens=max_tokens,
                seed=openai.omit if seed is None else seed,
            )
        except (openai.OpenAIError, ValueError) as exc:
            raise to_llm_error(
                exc, host=self._host, model=self._model, timeout=self._timeout
            ) from exc
        return self._text(reply)

    async def _stream(
        self,
        params: list[ChatCompletionMessageParam],
        temperature: float,
        max_tokens: int,
        seed: int | None,
        on_delta: OnDelta,
    ) -> str:
        stream = await self._client.chat.completions.create(
            model=self._model,
            messages=params,
            temperature=temperature,
            max_tokens=max_tokens,
            seed=openai.omit if seed is None else seed,
            stream=True,
        )
        pieces: list[str] = []
        finished = False
        async with stream:
            async for chunk in stream:
                delta, done = self._chunk(chunk)
                if delta:
                    pieces.append(delta)
                    on_delta(delta)
                finished = finished or done
        if not finished:  # the server closed the stream without saying the reply was complete
            raise LLMError("bad_response", f"{self._host} ended the reply stream early")
        return "".join(pieces)  # "" as without streaming: the flow's screen says "empty"

    def _chunk(self, chunk: object) -> tuple[str, bool]:
        """The text a stream chunk adds and whether it ends the reply (a ``finish_reason``)."""
        if not isinstance(chunk, ChatCompletionChunk):
            raise LLMError("bad_response", f"{self._host} did not send a chat completion chunk")
        if not chunk.choices:  # e.g. the usage chunk of stream_options.include_usage
            return "", False
        choice = chunk.choices[0]
        return choice.delta.content or "", choice.finish_reason is not None

    def _text(self, reply: object) -> str:
        # Without strict validation the SDK hands back raw text for a non-JSON body.
        if not isinstance(reply, ChatCompletion):
            raise LLMError("bad_response", f"{self._host} did not send a chat completion")
        if not reply.choices:
            raise LLMError("bad_response", f"{self._host} sent a reply with no choices")
        content = reply.choices[0].message.content
        if content is None:
            raise LLMError("bad_response", f"{self._host} sent a reply with no text")
        return content

    async def moderate(self, text: str) -> bool | None:
        if not self._moderation:
            return None
        try:
            # One quick attempt: moderation is advisory and must never hold up a draft.
            result = await self._client.with_options(max_retries=0).moderations.create(input=text)
        except (openai.OpenAIError, ValueError) as exc:
            log.warning("moderation at %s failed, continuing without it: %r", self._host, exc)
            return None
        if not isinstance(result, ModerationCreateResponse):
            log.warning("moderation at %s sent no moderation result", self._host)
            return None
        return any(r.flagged for r in result.results)

    async def close(self) -> None:
        """Close the HTTP connection pool."""
        await self._client.close()


def to_param(message: ChatMessage) -> ChatCompletionMessageParam:
    """Our :class:`ChatMessage` as openai's typed message param."""
    match message.role:
        case "system":
            return ChatCompletionSystemMessageParam(role="system", content=message.content)
        case "user":
            return ChatCompletionUserMessageParam(role="user", content=message.content)
        case "assistant":
            return ChatCompletionAssistantMessageParam(role="assistant", content=message.content)
