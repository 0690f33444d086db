"""``jokebot serve`` end to end: the Discord surface on the fake, health and metrics answering."""

import asyncio
import contextlib
import socket
import time
from pathlib import Path

import aiohttp
import pytest

from bot.app import run_discord, run_serve
from bot.config import load_settings
from bot.store import open_store
from bot.store.shards import shard_duty
from tests.support.db import rows
from tests.support.fake_discord import serve_fake
from tests.support.fake_discord._world import TOKEN
from tests.support.llm_server import FakeOpenAIServer


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def until_ready(http: aiohttp.ClientSession, url: str) -> dict[str, object]:
    """Poll ``url`` until it answers 200 (within 20 s of real time)."""
    async with asyncio.timeout(20):
        while True:
            with contextlib.suppress(aiohttp.ClientError):
                async with http.get(url) as reply:
                    if reply.status == 200:
                        body: dict[str, object] = await reply.json()
                        return body
            await asyncio.sleep(0.05)


async def test_serve_answers_health_and_metrics(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port = free_port()
    lines: list[str] = []
    with FakeOpenAIServer() as llm_server:
        async with serve_fake() as fake, aiohttp.ClientSession() as http:
            fake.patch(monkeypatch)
            settings = load_settings(
                _env_file=None,
                discord_token=TOKEN,
                openai_base_url=llm_server.base_url,  # no network until a completion
                database_url=f"sqlite:///{tmp_path / 'serve.db'}",
                health_port=port,
            )
            serving = asyncio.create_task(run_serve(settings, say=lines.append))
            try:
                ready = await until_ready(http, f"http://127.0.0.1:{port}/health/ready")
                async with http.get(f"http://127.0.0.1:{port}/health/live") as reply:
                    live = await reply.json()
                async with http.get(f"http://127.0.0.1:{port}/metrics") as reply:
                    metrics = await reply.text()
            finally:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving

    assert lines[0] == "discord: runs (DISCORD_TOKEN is set)"
    assert ready["not_ready"] == []
    assert live == {"status": "ok"}
    assert 'jokebot_surface_ready{surface="discord"} 1.0' in metrics
    assert "jokebot_store_up 1.0" in metrics


@pytest.mark.parametrize("command", ["serve", "discord"])
async def test_serve_with_shards_connects_what_it_leases_and_gives_it_up(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, command: str
) -> None:
    db = tmp_path / "serve.db"
    with FakeOpenAIServer() as llm_server:
        async with serve_fake(shard_count=2) as fake:
            fake.patch(monkeypatch)
            settings = load_settings(
                _env_file=None,
                discord_token=TOKEN,
                openai_base_url=llm_server.base_url,
                database_url=f"sqlite:///{db}",
                health_port=0,
                discord_shard_count=2,
                discord_shards_per_process=1,  # shard 0 here; shard 1 waits for another process
            )
            if command == "serve":
                serving = asyncio.create_task(run_serve(settings, say=lambda _: None))
            else:
                serving = asyncio.create_task(run_discord(settings))
            try:
                async with asyncio.timeout(20):
                    while fake.shards_connected() != {0}:
                        await asyncio.sleep(0.02)
                held = rows(db, "SELECT name, holder FROM duties WHERE name LIKE 'discord-shard:%'")
            finally:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
            connected_after = fake.shards_connected()

    assert [r["name"] for r in held] == ["discord-shard:0/2"]
    assert f"{socket.gethostname()}:" in held[0]["holder"]
    assert connected_after == set()
    assert rows(db, "SELECT name FROM duties WHERE name LIKE 'discord-shard:%'") == []


async def test_serve_standing_by_for_a_shard_is_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    port, url = free_port(), f"sqlite:///{tmp_path / 'serve.db'}"
    store = await open_store(url)
    try:  # another, live process holds both shards
        async with store.transaction() as tx:
            for shard in (0, 1):
                await tx.claim_duty(shard_duty(shard, 2), "other:1~x", time.time(), 4e9)
    finally:
        await store.close()
    with FakeOpenAIServer() as llm_server:
        async with serve_fake(shard_count=2) as fake, aiohttp.ClientSession() as http:
            fake.patch(monkeypatch)
            settings = load_settings(
                _env_file=None,
                discord_token=TOKEN,
                openai_base_url=llm_server.base_url,
                database_url=url,
                health_port=port,
                discord_shard_count=2,
            )
            serving = asyncio.create_task(run_serve(settings, say=lambda _: None))
            try:
                ready = await until_ready(http, f"http://127.0.0.1:{port}/health/ready")
            finally:
                serving.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await serving
            connected = fake.shards_connected()

    checks = ready["checks"]
    assert isinstance(checks, list)
    discord = next(c for c in checks if c["name"] == "surface:discord")
    assert ready["not_ready"] == []
    assert "standing by" in discord["detail"]
    assert connected == set()  # nothing free: it connected nothing
    assert [r["holder"] for r in rows(url, "SELECT holder FROM duties")] == ["other:1~x"] * 2
