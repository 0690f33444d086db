"""The gateway session as the adapter reports it, and the fake gateway's outage and RESUME."""

import asyncio

import aiohttp
import pytest

from adapters.discord_adapter import build_discord
from tests.support.fake_discord import StubSink, running, serve_fake


async def until(reports: list[tuple[bool, str]], last: tuple[bool, str]) -> None:
    async with asyncio.timeout(30):  # discord.py's reconnect backoff is random, up to 2**n s
        while not reports or reports[-1] != last:
            await asyncio.sleep(0.01)


async def test_discord_reports_ready_disconnect_and_resume(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    reports: list[tuple[bool, str]] = []
    async with serve_fake() as fake:
        fake.patch(monkeypatch)
        client, _ = build_discord(
            StubSink(),
            on_connection=lambda up, why: reports.append((up, why)),
            guild_ready_timeout=0.05,
        )
        async with running(client):
            await until(reports, (True, "gateway READY"))
            await fake.gateway.go_down()
            await until(reports, (False, "gateway disconnected, reconnecting"))
            async with asyncio.timeout(5):
                while not fake.gateway.refused:  # the immediate reconnect was refused
                    await asyncio.sleep(0.01)
            still_down = reports[-1]
            fake.gateway.come_back()
            await until(reports, (True, "gateway RESUMED"))

    assert reports[0] == (True, "gateway READY")
    assert still_down == (False, "gateway disconnected, reconnecting")
    assert fake.gateway.resumes == 1
    assert len(fake.gateway.intents) == 1  # resumed, never identified again


async def test_fake_gateway_refuses_while_down_and_resumes_only_its_session() -> None:
    async with serve_fake() as fake, aiohttp.ClientSession() as http:
        url = f"http://127.0.0.1:{fake.port}/gateway"
        await fake.gateway.go_down()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await http.ws_connect(url)
        fake.gateway.come_back()
        async with http.ws_connect(url) as ws:
            hello = await ws.receive_json()
            await ws.send_json({"op": 6, "d": {"token": "x", "session_id": "other", "seq": 1}})
            invalid = await ws.receive_json()

    assert refused.value.status == 503
    assert hello["op"] == 10
    assert invalid == {"op": 9, "d": False}
    assert fake.gateway.resumes == 0
