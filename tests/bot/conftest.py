"""Fixtures for tests/bot: a clean environment so no real setting leaks into a test, a
booted runtime ``Harness`` for the runtime tests, ``db_url``: one test per store backend, and
``server`` / ``chat``: the local OpenAI-compatible server and the real openai client on it.
"""

import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from bot.config import Settings
from bot.llm.openai_chat import OpenAIChat
from tests.support.llm_server import FakeOpenAIServer
from tests.support.postgres import scratch_schema
from tests.support.runtime_harness import Harness

# every test taking db_url runs once per backend; -m "not postgres" leaves PostgreSQL out
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]

_PREFIXES = ("DISCORD_", "SLACK_", "OPENAI_")


@pytest.fixture(autouse=True)
def clean_env(monkeypatch: pytest.MonkeyPatch) -> None:
    """Remove DISCORD_*, SLACK_*, OPENAI_* and jokebot's own settings from the environment."""
    own = {name.upper() for name in Settings.model_fields}
    for name in list(os.environ):
        if name.startswith(_PREFIXES) or name in own:
            monkeypatch.delenv(name)


@pytest.fixture
async def h(db_url: str) -> AsyncIterator[Harness]:
    """A booted bot over a fresh database of each backend; shut down (pool closed) afterwards."""
    harness = Harness(db_url)
    await harness.boot()
    try:
        yield harness
    finally:
        await harness.shutdown()


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh, empty database: a SQLite file in ``tmp_path``, or a scratch PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'bot.db'}"
        return
    async with scratch_schema() as url:
        yield url


@pytest.fixture
def server() -> Iterator[FakeOpenAIServer]:
    with FakeOpenAIServer() as srv:
        yield srv


@pytest.fixture
async def chat(server: FakeOpenAIServer) -> AsyncIterator[OpenAIChat]:
    llm = OpenAIChat(model="test-model", api_key="sk-test", base_url=server.base_url, timeout=2)
    try:
        yield llm
    finally:
        await llm.close()
