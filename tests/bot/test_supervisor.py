"""supervise: a failing surface is retried with a growing pause; a config error stops only it."""

import asyncio

import pytest

from bot.errors import ConfigError
from bot.supervisor import BACKOFF_S, HEALTHY_S, SurfaceState, SurfaceStatus, supervise
from tests.support.clock import FakeClock


class Scripted:
    """A surface whose attempts raise the scripted errors, then serve until cancelled."""

    def __init__(self, clock: FakeClock, *errors: Exception, serve_s: float = 0.0) -> None:
        self.clock, self.errors, self.serve_s = clock, list(errors), serve_s
        self.attempts = 0
        self.serving = asyncio.Event()

    async def run(self) -> None:
        self.attempts += 1
        if self.serve_s:
            await self.clock.sleep(self.serve_s)
        if self.errors:
            raise self.errors.pop(0)
        self.serving.set()
        await asyncio.Event().wait()


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_supervisor_retries_with_growing_pauses_until_the_surface_serves() -> None:
    clock = FakeClock()
    surface = Scripted(clock, OSError("gateway down"), OSError("still down"))
    status = SurfaceStatus("discord")
    task = asyncio.create_task(supervise(status, surface.run, clock))

    await settle()
    first = (surface.attempts, status.state, status.detail)
    clock.advance(BACKOFF_S[0])
    await settle()
    second = (surface.attempts, status.state, (clock.next_deadline() or 0) - clock.now())
    clock.advance(BACKOFF_S[1])
    await surface.serving.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert first == (1, SurfaceState.RETRYING, "OSError: gateway down")
    assert second == (2, SurfaceState.RETRYING, BACKOFF_S[1])
    assert surface.attempts == 3
    assert status.failures == 2


async def test_supervisor_stops_on_a_config_error_and_the_others_keep_serving() -> None:
    clock = FakeClock()
    bad = Scripted(clock, ConfigError("Discord refused DISCORD_TOKEN"))
    good = Scripted(clock)
    bad_status, good_status = SurfaceStatus("discord"), SurfaceStatus("slack")

    stopped = asyncio.create_task(supervise(bad_status, bad.run, clock))
    serving = asyncio.create_task(supervise(good_status, good.run, clock))
    await stopped
    await good.serving.wait()
    serving.cancel()
    with pytest.raises(asyncio.CancelledError):
        await serving

    assert bad_status.state == SurfaceState.STOPPED
    assert "DISCORD_TOKEN" in bad_status.detail
    assert bad.attempts == 1
    assert good_status.state == SurfaceState.RUNNING


async def test_supervisor_starts_the_backoff_afresh_after_a_healthy_run() -> None:
    clock = FakeClock()
    surface = Scripted(clock, OSError("a"), OSError("b"), serve_s=HEALTHY_S)
    status = SurfaceStatus("slack")
    task = asyncio.create_task(supervise(status, surface.run, clock))

    await settle()
    clock.advance(HEALTHY_S)  # the first attempt served a minute, then failed
    await settle()
    pause_after_first = (clock.next_deadline() or 0) - clock.now()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert pause_after_first == BACKOFF_S[0]
    assert status.failures == 1


async def test_supervisor_restarts_a_surface_that_returns_by_itself() -> None:
    clock = FakeClock()
    calls = 0

    async def returns_at_once() -> None:
        nonlocal calls
        calls += 1

    status = SurfaceStatus("slack")
    task = asyncio.create_task(supervise(status, returns_at_once, clock))
    await settle()
    clock.advance(BACKOFF_S[0])
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert calls == 2
    assert status.detail == "stopped serving by itself"


async def test_supervisor_connection_reports_count_until_the_next_try() -> None:
    clock = FakeClock()
    status = SurfaceStatus("slack")
    reported: list[tuple[bool | None, str, bool]] = []

    async def run() -> None:
        status.report(False, "connecting")
        reported.append((status.connected, status.connection, status.ready))
        status.report(True, "hello on the socket")
        reported.append((status.connected, status.connection, status.ready))
        if len(reported) == 2:
            raise OSError("socket lost")
        await asyncio.Event().wait()

    task = asyncio.create_task(supervise(status, run, clock))
    await settle()
    retrying = (status.state, status.connected, status.connection)
    clock.advance(BACKOFF_S[0])
    await settle()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task

    assert reported[:2] == [(False, "connecting", False), (True, "hello on the socket", True)]
    assert retrying == (SurfaceState.RETRYING, True, "hello on the socket")  # not ready anyway
    assert not SurfaceStatus("slack", SurfaceState.RETRYING, connected=True).ready
    assert reported[2] == (False, "connecting", False)  # the new try starts from "not reported"
