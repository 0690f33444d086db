"""Wiring: the configured LLM provider, loaded at boot and closed at exit."""

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from bot.config import Settings
from bot.llm import EmbeddedChat, LLMChoice, select_llm
from bot.ports import LLM

log = logging.getLogger(__name__)


def make_llm(settings: Settings) -> LLMChoice:
    """The configured LLM provider and a one-line description of the choice."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return select_llm(
        provider=settings.llm_provider,
        api_key=key,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        timeout=settings.llm_timeout,
    )


@asynccontextmanager
async def serving_llm(settings: Settings) -> AsyncIterator[LLM]:
    """The configured LLM, loaded up front (a broken model fails at boot), closed at exit."""
    llm, description = make_llm(settings)
    log.info("LLM: %s", description)
    try:
        if isinstance(llm, EmbeddedChat):
            await llm.load()
        yield llm
    finally:
        await llm.close()
