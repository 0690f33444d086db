"""Fixtures for the Discord adapter tests: a scripted sink and a client on a fake Discord."""

from collections.abc import AsyncIterator

import pytest

from tests.support.fake_discord import Session, StubSink, discord_session


@pytest.fixture
def sink() -> StubSink:
    """A scripted EventSink in a configured guild."""
    return StubSink()


@pytest.fixture
async def bot(monkeypatch: pytest.MonkeyPatch, sink: StubSink) -> AsyncIterator[Session]:
    """A fake Discord with a connected JokeClient (over ``sink``) and its sender."""
    async with discord_session(monkeypatch, sink) as session:
        yield session
