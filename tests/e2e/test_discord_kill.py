"""kill -9 a real jokebot Discord process while every public post's answer is lost.

The parent serves the strict fake Discord and plays its users (``/joke``, Approve); the
child is the real bot (core + discord.py client) and is SIGKILLed at random moments, then
restarted on the same database; a last in-process boot approves what still waits and
drains. Two public channels: a busy one (200 other messages after each bot post) and one
where the bot lacks Read Message History. Every publish's answer is cut after the write, so
each joke's fate rests on reconcile: 0 duplicate public posts, every publish done with
exactly one post or ``uncertain`` with an alert in the moderator channel.

1 round per channel in the normal suite; ``JOKEBOT_DISCORD_KILL_ROUNDS=30`` for a soak.
The seed is in the failure message.
"""

import asyncio
import copy
import logging
import os
import random
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from bot.models import Actor, DecisionRequest
from tests.support.clock import FakeClock
from tests.support.discord_crash_child import JOKE
from tests.support.fake_discord import (
    BOT_ID,
    MOD,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    READ_HISTORY,
    FakeDiscord,
    button_ids,
    click,
    running,
    serve_fake,
    slash,
)
from tests.support.llm import FakeLLM
from tests.support.runtime_invariants import Snapshot
from tests.support.stack import joke_stack

log = logging.getLogger(__name__)
ROUNDS = int(os.environ.get("JOKEBOT_DISCORD_KILL_ROUNDS", "1"))
REPO = Path(__file__).resolve().parents[2]
POSTS = rf"/channels/{PUBLIC_CHANNEL}/messages"
OPEN = ("pending", "in_flight")


def pending_cards(fake: FakeDiscord) -> list[dict[str, Any]]:
    """Cards that still show buttons, as a Discord client would show them."""
    return [
        copy.deepcopy(m)
        for m in fake.messages(MOD_CHANNEL)
        if m["author"]["id"] == str(BOT_ID) and button_ids(m)
    ]


async def users(fake: FakeDiscord, rng: random.Random) -> None:
    """Ask for jokes and approve the cards one at a time, as people would, until cancelled."""
    clicked: set[str] = set()
    asks = 0
    while True:
        if asks == 0 or rng.random() < 0.5:
            asks += 1
            await fake.interact(slash("joke", {"topic": "cats"}))
        fresh = [c for c in pending_cards(fake) if c["id"] not in clicked]
        if fresh:
            clicked.add(fresh[0]["id"])
            await fake.interact(click(button_ids(fresh[0])[0], fresh[0], user=MOD))
        await asyncio.sleep(rng.uniform(0.2, 0.5))


async def kill_at_random(fake: FakeDiscord, db: Path, rng: random.Random) -> None:
    """Start the bot, let people use it for a random moment, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = await asyncio.create_subprocess_exec(
        sys.executable,
        *("-m", "tests.support.discord_crash_child", str(db), str(fake.port)),
        cwd=REPO,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    driver: asyncio.Task[None] | None = None
    try:
        assert child.stdout is not None
        ready = await asyncio.wait_for(child.stdout.readline(), 30)
        assert ready == b"ready\n", f"child did not start: {ready!r}"
        driver = asyncio.create_task(users(fake, rng))
        await asyncio.sleep(rng.uniform(0.5, 3.0))  # real time on purpose: a real crash
        assert child.returncode is None, "the child died by itself"
    finally:
        child.kill()
        _, err = await child.communicate()
        if driver is not None:
            driver.cancel()
            await asyncio.gather(driver, return_exceptions=True)
    assert b"Traceback" not in err, err.decode(errors="replace")


async def settle(fake: FakeDiscord, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """One more boot in-process: approve whatever waits, let every backoff pass, drain."""
    from adapters.discord_adapter import build_discord

    clock = FakeClock(start=time.time())
    async with joke_stack(tmp_path, llm=FakeLLM(JOKE), clock=clock, serve=False) as stack:
        fake.patch(monkeypatch)
        client, sender = build_discord(stack.service, guild_ready_timeout=0.05)
        stack.register("discord", sender)
        mod = Actor("discord", str(MOD), "Mo", is_moderator=True)
        async with running(client):
            for i in range(200):
                await stack.drain()
                cards = pending_cards(fake)  # one at a time, like the people in the rounds
                if cards:
                    token = button_ids(cards[0])[0].split(":")[2]
                    await stack.service.decide(DecisionRequest(token, "approve", mod, f"s{i}"))
                outbox = Snapshot.load(stack.db_path).outbox
                if i > 2 and not cards and not any(e["status"] in OPEN for e in outbox):
                    break
                fake.state.clock.advance(301)  # past Discord's nonce window
                clock.advance(600)  # past every backoff and lease


def check(fake: FakeDiscord, db: Path) -> dict[str, int]:
    """0 duplicates; every publish done with exactly its one post, or uncertain with an alert."""
    posts: Counter[str] = Counter()
    ids: dict[str, str] = {}
    for message in fake.messages(PUBLIC_CHANNEL):
        if message["author"]["id"] == str(BOT_ID) and message["embeds"]:
            key = message["embeds"][0]["footer"]["text"].rpartition(" · ref ")[2]
            posts[key] += 1
            ids[key] = message["id"]
    outbox = Snapshot.load(db).outbox
    by_id = {e["effect_id"]: e for e in outbox}
    publish = [e for e in outbox if e["kind"] == "publish"]
    problems = [f"{k}: {n} public posts" for k, n in posts.items() if n > 1]
    for e in publish:
        if e["status"] == "done" and ids.get(e["dedupe_key"]) != e["platform_ref"]:
            problems.append(f"{e['effect_id']}: done as {e['platform_ref']}, post missing")
        elif e["status"] in ("uncertain", "failed"):
            alert = by_id.get(f"{e['effect_id']}:alert")
            if alert is None or alert["status"] != "done":
                problems.append(f"{e['effect_id']}: {e['status']} without a delivered alert")
        elif e["status"] in OPEN:
            problems.append(f"{e['effect_id']}: still {e['status']}")
    assert not problems, "\n".join(problems)
    statuses = Counter(e["status"] for e in publish)
    why = Counter(_reason(e["last_error"]) for e in publish if e["status"] == "uncertain")
    return {"publish": len(publish), "posts": sum(posts.values()), **statuses, **why}


def _reason(error: str) -> str:
    if "not in the last" in error:
        return "uncertain: buried past the scan"
    if "Read Message History" in error:
        return "uncertain: history unreadable"
    return f"uncertain: {error[:80]}"


@pytest.mark.slow
@pytest.mark.parametrize("channel", ["busy", "no_history"])
async def test_kill_9_with_lost_responses_never_double_posts(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, channel: str
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db = tmp_path / "jokebot.db"
    async with serve_fake() as fake:
        if channel == "busy":
            # 200 others after each bot post: with a joke approved every second or so and the
            # outbox retrying within seconds, hundreds of messages sit on top of each post.
            fake.busy[PUBLIC_CHANNEL] = 200
        else:
            await fake.set_overwrite(PUBLIC_CHANNEL, BOT_ID, deny=READ_HISTORY)
        fake.fail("POST", POSTS, status=200, then="drop", times=1_000_000)  # every answer lost

        for _ in range(ROUNDS):
            await kill_at_random(fake, db, rng)
        await settle(fake, tmp_path, monkeypatch)

        try:
            figures = check(fake, db)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed} ({channel}): {exc}") from exc
    log.info("discord kill -9 %s: seed %s, %s rounds, %s", channel, seed, ROUNDS, figures)
    assert figures["publish"] > 0, f"seed {seed}: no joke got as far as publishing"
    if channel == "no_history":
        assert figures.get("done", 0) == 0  # nothing can be proven there: all uncertain
