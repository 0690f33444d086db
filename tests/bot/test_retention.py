"""Retention: runs that ended long ago are pruned with all their rows; live work is untouched."""

import asyncio
from pathlib import Path

from bot.app import pruning_duty
from bot.config import load_settings
from bot.models import Actor, DecideStatus, DecisionRequest, JokeRequest, Origin, ScopeConfig
from bot.ops.retention import PRUNE_DUTY, prune, pruning
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.serving import until
from tests.support.stack import Stack, joke_stack

DAY = 86400.0
MOD = Actor("fake", "m1", "@mod", is_moderator=True)
ORIGIN = Origin("fake", "g1", Actor("fake", "u1", "@ann"), "", "", "general")


async def review(stack: Stack, platform: FakePlatform, key: str) -> str:
    await stack.service.request_joke(JokeRequest(key, ORIGIN, "cats"))
    await stack.drain()
    token = platform.latest_token(key)
    assert token is not None
    return token


async def test_retention_prunes_ended_runs_and_keeps_pending_ones(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM("Why? Because."), serve=False) as stack:
        platform = FakePlatform(stack.clock)
        stack.register("fake", platform)
        await stack.service.save_scope(ScopeConfig("fake", "g1", "mods", "fun"))
        for n, key in enumerate(("fake:1", "fake:2")):
            token = await review(stack, platform, key)
            await stack.service.decide(DecisionRequest(token, "approve", MOD, f"i{n}"))
            await stack.drain()
        stack.clock.advance(10 * DAY)
        pending = await review(stack, platform, "fake:3")
        too_young = await prune(stack.store, stack.clock, 30 * DAY)
        pruned = await prune(stack.store, stack.clock, 5 * DAY, batch=1)
        async with stack.store.read() as tx:
            audited = {a.run_id for a in await tx.audit()}
        statuses = [await stack.service.run_status(k) for k in ("fake:1", "fake:2", "fake:3")]
        later = await stack.service.decide(DecisionRequest(pending, "approve", MOD, "i9"))

    assert (too_young, pruned) == (0, 2)
    assert audited == {"fake:3"}
    assert statuses == [None, None, "waiting"]
    assert later.status == DecideStatus.APPLIED


async def test_retention_duty_prunes_at_start_and_then_periodically(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM("Why? Because."), serve=False) as stack:
        platform = FakePlatform(stack.clock)
        stack.register("fake", platform)
        await stack.service.save_scope(ScopeConfig("fake", "g1", "mods", "fun"))
        token = await review(stack, platform, "fake:1")
        await stack.service.decide(DecisionRequest(token, "approve", MOD, "i1"))
        await stack.drain()
        duty = asyncio.create_task(
            pruning(stack.store, stack.clock, DAY, holder="bot-1", every_s=3600)
        )
        for _ in range(500):  # until the first pass (claim the duty, prune) sleeps
            if stack.clock.sleepers:
                break
            await asyncio.sleep(0.001)
        kept = await stack.service.run_status("fake:1")
        stack.clock.advance(DAY + 3600)
        for _ in range(50):
            await asyncio.sleep(0.001)
            if await stack.service.run_status("fake:1") is None:
                break
        gone = await stack.service.run_status("fake:1")
        duty.cancel()
        off = load_settings(_env_file=None, retention_days=0)
        async with pruning_duty(off, stack.core):
            tasks = {t.get_name() for t in asyncio.all_tasks()}
    await asyncio.gather(duty, return_exceptions=True)

    assert kept == "finished"
    assert gone is None
    assert "retention" not in tasks


async def test_retention_prunes_only_in_the_process_holding_the_prune_duty(tmp_path: Path) -> None:
    async with joke_stack(tmp_path, llm=FakeLLM("Why? Because."), serve=False) as stack:
        platform = FakePlatform(stack.clock)
        stack.register("fake", platform)
        await stack.service.save_scope(ScopeConfig("fake", "g1", "mods", "fun"))
        token = await review(stack, platform, "fake:1")
        await stack.service.decide(DecisionRequest(token, "approve", MOD, "i1"))
        await stack.drain()
        stack.clock.advance(2 * DAY)
        now = stack.clock.now()
        async with stack.store.transaction() as tx:  # another process prunes (lease: 2 h)
            await tx.claim_duty(PRUNE_DUTY, "bot-2", now, now + 7200)
        duty = asyncio.create_task(
            pruning(stack.store, stack.clock, DAY, holder="bot-1", every_s=3600)
        )
        await until(lambda: stack.clock.sleepers == 1)  # its first pass: not the holder
        kept = await stack.service.run_status("fake:1")
        stack.clock.advance(3600)
        await until(lambda: stack.clock.sleepers == 1)  # still bot-2's lease
        still = await stack.service.run_status("fake:1")
        stack.clock.advance(3601)  # bot-2's lease ran out: bot-1 takes the duty over
        await until(lambda: stack.clock.sleepers == 1)
        gone = await stack.service.run_status("fake:1")
        async with stack.store.read() as tx:
            holder = await tx.duty(PRUNE_DUTY)
        duty.cancel()
        await asyncio.gather(duty, return_exceptions=True)
        async with stack.store.read() as tx:
            after = await tx.duty(PRUNE_DUTY)

    assert (kept, still, gone) == ("finished", "finished", None)
    assert holder is not None
    assert holder.holder == "bot-1"
    assert after is None  # given up when the duty stopped
