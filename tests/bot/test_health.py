"""Readiness checks over the real core: surfaces, store, stuck outbox effects, the model."""

import asyncio
from pathlib import Path

import pytest

from bot.errors import LLMError
from bot.llm import EmbeddedChat
from bot.llm.probe import ObservedLLM
from bot.models import Actor, JokeRequest, Origin
from bot.ops import Readiness, Report
from bot.supervisor import SurfaceState, SurfaceStatus
from tests.support.clock import FakeClock
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

ORIGIN = Origin("fake", "g1", Actor("fake", "u1", "@ann"), "mods", "fun", "general")


def running(name: str) -> SurfaceStatus:
    return SurfaceStatus(name, SurfaceState.RUNNING)


def readiness(stack: Stack, *surfaces: SurfaceStatus, **kw: float) -> Readiness:
    return Readiness(stack.store, surfaces, stack.core.observed, stack.clock, **kw)


def by_name(report: Report) -> dict[str, bool]:
    return {c.name: c.ok for c in report.checks}


async def ask(stack: Stack, key: str = "fake:1") -> None:
    await stack.service.request_joke(JokeRequest(key, ORIGIN, "cats"))
    await stack.drain()


async def test_health_ready_when_surfaces_run_store_answers_and_nothing_is_stuck(
    tmp_path: Path,
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(), serve=False) as stack:
        stack.register("fake", FakePlatform(stack.clock))
        await ask(stack)

        report = await readiness(stack, running("discord"), running("slack")).check()

    assert report.ready
    assert report.as_json()["status"] == "ready"
    assert report.as_json()["not_ready"] == []
    assert by_name(report) == {
        "surface:discord": True,
        "surface:slack": True,
        "store": True,
        "outbox": True,
        "llm": True,
    }


@pytest.mark.parametrize(
    "surface",
    [
        SurfaceStatus("slack"),  # STARTING
        SurfaceStatus("slack", SurfaceState.RETRYING, "OSError: socket closed"),
        SurfaceStatus("slack", SurfaceState.STOPPED, "Slack refused SLACK_BOT_TOKEN"),
        SurfaceStatus("slack", SurfaceState.RUNNING, connected=False),  # the adapter's hook
    ],
)
async def test_health_a_surface_not_running_is_named(
    tmp_path: Path, surface: SurfaceStatus
) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(), serve=False) as stack:
        report = await readiness(stack, running("discord"), surface).check()

    body = report.as_json()
    assert body["status"] == "not_ready"
    assert body["not_ready"] == ["surface:slack"]
    detail = next(c["detail"] for c in body["checks"] if c["name"] == "surface:slack")
    assert (surface.detail or "") in detail


async def test_health_an_effect_open_past_the_threshold_is_stuck(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(), serve=False) as stack:
        await ask(stack)  # no sender registered: the card waits in the outbox
        fresh = await readiness(stack, stuck_s=600).check()
        stack.clock.advance(601)
        stuck = await readiness(stack, stuck_s=600).check()
        stack.register("fake", FakePlatform(stack.clock))
        await stack.drain()
        delivered = await readiness(stack, stuck_s=600).check()

    assert by_name(fresh)["outbox"]
    assert stuck.as_json()["not_ready"] == ["outbox"]
    assert "review.post" in stuck.checks[-2].detail
    assert "HEALTH_STUCK_S=600" in stuck.checks[-2].detail
    assert delivered.ready


async def test_health_store_that_does_not_answer_in_time_is_not_ready(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM(), serve=False) as stack:
        held, release = asyncio.Event(), asyncio.Event()

        async def hold() -> None:
            async with stack.store.transaction():
                held.set()
                await release.wait()

        holder = asyncio.create_task(hold())
        await held.wait()
        report = await readiness(stack, timeout_s=0.05).check()
        release.set()
        await holder
        after = await readiness(stack, timeout_s=0.05).check()

    assert report.as_json()["not_ready"] == ["store", "outbox"]
    assert "no answer within 0.05 s" in report.checks[0].detail
    assert after.ready


async def test_health_llm_is_judged_by_its_last_completion(tmp_path: Path) -> None:
    llm = FakeLLM("Why? Because.", fail_times=1)
    async with joke_stack(tmp_path, llm=llm, serve=False) as stack:
        stack.register("fake", FakePlatform(stack.clock))
        before = await readiness(stack).check()
        await ask(stack)  # the first completion fails; the run waits on its retry timer
        failed = await readiness(stack).check()
        stack.clock.advance(120)
        await stack.drain()
        recovered = await readiness(stack).check()

    assert before.checks[-1].detail == "no completion yet"
    assert failed.as_json()["not_ready"] == ["llm"]
    assert "(unreachable)" in failed.checks[-1].detail
    assert recovered.ready
    assert recovered.checks[-1].detail.startswith("last completion ok")


async def test_health_embedded_model_is_ready_once_loaded() -> None:
    observed = ObservedLLM(EmbeddedChat(), FakeClock())

    ok, detail = observed.health()

    assert (ok, detail) == (False, "embedded model not loaded")


async def test_observed_llm_times_calls_and_forwards_everything() -> None:
    calls: list[tuple[float, str | None]] = []
    inner = FakeLLM("ha", LLMError("timeout", "too slow"), label="L", model_id="m")
    observed = ObservedLLM(inner, FakeClock(), lambda s, kind: calls.append((s, kind)))

    assert await observed.complete([]) == "ha"
    with pytest.raises(LLMError):
        await observed.complete([])

    assert [kind for _, kind in calls] == [None, "timeout"]
    assert all(seconds >= 0 for seconds, _ in calls)
    assert (observed.label, observed.model_id, observed.wants_avoid_list) == ("L", "m", True)
    assert observed.last is not None
    assert observed.last.error == "too slow"
    assert await observed.moderate("x") is None
