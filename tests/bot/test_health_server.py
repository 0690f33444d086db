"""The health server on port 0 and ``jokebot health``: 200 / 503 JSON, exit 0 / 1 / 2."""

import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest

from bot.app import check_health, ops_server
from bot.cli import main
from bot.config import load_settings
from bot.errors import ConfigError
from bot.ops import Readiness, ops_app, probe, serving_ops
from bot.supervisor import SurfaceState, SurfaceStatus
from tests.support.llm import FakeLLM
from tests.support.stack import Stack, joke_stack


@asynccontextmanager
async def server(stack: Stack, surface: SurfaceStatus) -> AsyncIterator[str]:
    checks = Readiness(stack.store, [surface], stack.core.observed, stack.clock)
    async with serving_ops(ops_app(checks), "127.0.0.1", 0) as port:
        yield f"http://127.0.0.1:{port}"


def free_port() -> int:
    """A port nothing listens on (bound, then closed)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def get(url: str) -> tuple[int, dict[str, object]]:
    async with aiohttp.ClientSession() as session, session.get(url) as reply:
        return reply.status, await reply.json()


async def test_health_server_live_and_ready_answer_json(tmp_path: Path) -> None:
    surface = SurfaceStatus("discord", SurfaceState.RUNNING)
    async with (
        joke_stack(tmp_path, llm=FakeLLM(), serve=False) as stack,
        server(stack, surface) as base,
    ):
        live = await get(f"{base}/health/live")
        ready = await get(f"{base}/health/ready")
        surface.state, surface.detail = SurfaceState.RETRYING, "OSError: gateway down"
        not_ready = await get(f"{base}/health/ready")
        missing = await probe(f"{base}/metrics")  # no metrics source given

    assert live == (200, {"status": "ok"})
    assert ready[0] == 200
    assert ready[1]["status"] == "ready"
    assert not_ready[0] == 503
    assert not_ready[1]["not_ready"] == ["surface:discord"]
    assert missing[0] == 1


async def test_health_probe_exit_status_ready_not_ready_unreachable(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    surface = SurfaceStatus("slack", SurfaceState.RUNNING)
    settings = load_settings(_env_file=None)
    async with (
        joke_stack(tmp_path, llm=FakeLLM(), serve=False) as stack,
        server(stack, surface) as base,
    ):
        ready = await check_health(settings, f"{base}/health/ready")
        ready_out = json.loads(capsys.readouterr().out)
        surface.state = SurfaceState.STOPPED
        not_ready = await check_health(settings, f"{base}/health/ready")
        not_ready_out = json.loads(capsys.readouterr().out)
    unreachable = await check_health(settings, f"http://127.0.0.1:{free_port()}/health/ready")
    unreachable_out = json.loads(capsys.readouterr().out)

    assert (ready, ready_out["status"]) == (0, "ready")
    assert (not_ready, not_ready_out["not_ready"]) == (1, ["surface:slack"])
    assert (unreachable, unreachable_out["status"]) == (2, "unreachable")


def test_health_cli_unreachable_is_exit_2_and_port_0_is_a_config_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("HEALTH_PORT", str(free_port()))

    unreachable = main(["health"])
    out = json.loads(capsys.readouterr().out)
    monkeypatch.setenv("HEALTH_PORT", "0")
    disabled = main(["health"])

    assert (unreachable, out["status"]) == (2, "unreachable")
    assert disabled == 2
    assert "HEALTH_PORT=0" in capsys.readouterr().err


async def test_health_ops_server_is_off_at_port_0_and_a_taken_port_is_a_config_error(
    tmp_path: Path,
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(), serve=False) as stack:
        async with ops_server(load_settings(_env_file=None, health_port=0), stack.core, []) as off:
            assert off is None
        with socket.socket() as taken:
            taken.bind(("127.0.0.1", 0))
            taken.listen()
            port = int(taken.getsockname()[1])
            settings = load_settings(_env_file=None, health_port=port)
            with pytest.raises(ConfigError, match="HEALTH_PORT"):
                async with ops_server(settings, stack.core, []):
                    pass
        settings = load_settings(_env_file=None, health_port=free_port())
        async with ops_server(settings, stack.core, []) as bound:
            assert bound == settings.health_port
            status, body = await get(f"http://127.0.0.1:{bound}/health/ready")

    assert (status, body["status"]) == (200, "ready")
