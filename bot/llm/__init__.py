"""LLM providers behind bot.ports.LLM, and the choice between them.

:func:`select_llm` takes plain values (the CLI reads Settings) and returns the provider plus
one line saying what was chosen and why. ``llama_cpp`` is imported only when the embedded
model is actually used.
"""

from typing import NamedTuple

from bot.errors import ConfigError
from bot.llm.embedded import LABEL as EMBEDDED_LABEL, EmbeddedChat
from bot.llm.openai_chat import OpenAIChat

PROVIDERS = ("auto", "openai", "embedded")


class LLMChoice(NamedTuple):
    """The selected provider and a one-line, secret-free description of why."""

    llm: OpenAIChat | EmbeddedChat
    description: str


def select_llm(
    *,
    provider: str = "auto",
    api_key: str | None = None,
    base_url: str | None = None,
    model: str = "gpt-4o-mini",
    timeout: float = 20.0,
    max_retries: int = 2,
) -> LLMChoice:
    """Pick the LLM: an OpenAI-compatible endpoint when configured, else the embedded model.

    Args:
        provider: ``auto`` (decide from key / base URL), ``openai`` or ``embedded``.
        api_key: OPENAI_API_KEY's value, if set.
        base_url: OPENAI_BASE_URL's value, if set (Ollama and friends need only this).
        model: model name for the OpenAI-compatible endpoint.
        timeout: seconds per request to that endpoint.
        max_retries: SDK retries for transient failures of that endpoint.

    Raises:
        ConfigError: unknown ``provider``, or ``openai`` without a key or base URL.
    """
    provider = provider.strip().lower()
    if provider not in PROVIDERS:
        raise ConfigError(f"LLM_PROVIDER must be one of {', '.join(PROVIDERS)}, got {provider!r}")
    configured = bool(api_key) or bool(base_url)
    if provider == "openai" and not configured:
        raise ConfigError("LLM_PROVIDER=openai: set OPENAI_API_KEY or OPENAI_BASE_URL")
    if provider == "embedded" or not configured:
        return LLMChoice(EmbeddedChat(), _embedded_reason(configured))
    llm = OpenAIChat(
        model=model,
        api_key=api_key or None,
        base_url=base_url or None,
        timeout=timeout,
        max_retries=max_retries,
    )
    return LLMChoice(llm, f"{llm.label} ({_openai_reason(provider, api_key, base_url)})")


def _embedded_reason(configured: bool) -> str:
    why = (
        "LLM_PROVIDER=embedded; OPENAI_* settings ignored"
        if configured
        else "no OPENAI_API_KEY or OPENAI_BASE_URL set"
    )
    return f"{EMBEDDED_LABEL} ({why})"


def _openai_reason(provider: str, api_key: str | None, base_url: str | None) -> str:
    set_ = " and ".join(
        name
        for name, value in (("OPENAI_API_KEY", api_key), ("OPENAI_BASE_URL", base_url))
        if value
    )
    return f"LLM_PROVIDER=openai, {set_} set" if provider == "openai" else f"{set_} set"


__all__ = ["PROVIDERS", "EmbeddedChat", "LLMChoice", "OpenAIChat", "select_llm"]
