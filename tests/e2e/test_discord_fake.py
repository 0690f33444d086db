"""The fake Discord itself keeps Discord's rules (so adapter tests can rely on them)."""

from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from tests.support.fake_discord import (
    REQUIRED_OVERLAY_KEYS,
    FakeDiscord,
    docs_shaped_slash,
    overlay,
    serve_fake,
    slash,
)


@pytest.fixture
async def fake() -> AsyncIterator[FakeDiscord]:
    async with serve_fake() as server:
        yield server


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


async def _post(http: aiohttp.ClientSession, fake: FakeDiscord, path: str, body: Any) -> Any:
    url = f"http://127.0.0.1:{fake.port}/api/v10{path}"
    async with http.post(url, json=body) as response:
        return response.status, await response.json()


async def test_content_type_is_exactly_application_json(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    async with http.get(f"http://127.0.0.1:{fake.port}/api/v10/users/@me") as response:
        assert response.headers["Content-Type"] == "application/json"


async def test_one_acknowledgement_per_interaction(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    payload = slash("joke", {"topic": "cats"})
    iid = await fake.interact(payload)
    path = f"/interactions/{iid}/{payload['token']}/callback"

    first = await _post(http, fake, path, {"type": 5, "data": {"flags": 64}})
    second = await _post(http, fake, path, {"type": 5, "data": {"flags": 64}})

    assert first[0] == 200
    assert second == (400, {"code": 40060, "message": "Interaction has already been acknowledged."})


async def test_late_acknowledgement_is_unknown_interaction(
    fake: FakeDiscord, http: aiohttp.ClientSession
) -> None:
    payload = slash("joke", {"topic": "cats"})
    iid = await fake.interact(payload, age_s=3.01)

    status, body = await _post(
        http, fake, f"/interactions/{iid}/{payload['token']}/callback", {"type": 5}
    )

    assert (status, body["code"]) == (404, 10062)


async def test_nonce_dedupe_and_limit(fake: FakeDiscord, http: aiohttp.ClientSession) -> None:
    body = {"content": "x", "nonce": "n1", "enforce_nonce": True}

    first = await _post(http, fake, "/channels/5/messages", body)
    again = await _post(http, fake, "/channels/5/messages", body)
    too_long = await _post(http, fake, "/channels/5/messages", {**body, "nonce": "n" * 26})

    assert first[1]["id"] == again[1]["id"]
    assert len(fake.messages(5)) == 1
    assert too_long[0] == 400


def test_overlay_adds_exactly_the_required_keys() -> None:
    raw = docs_shaped_slash("joke", [], 1)

    full = overlay(raw)

    for key in REQUIRED_OVERLAY_KEYS:
        outer, _, inner = key.partition(".")
        assert (inner or outer) not in (raw[outer] if inner else raw)
        assert inner in full[outer] if inner else outer in full
