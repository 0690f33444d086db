"""Shard handover: kill -9 a shard holder, another process connects its shards; never two.

Three real bot processes (``tests/support/discord_shard_child.py``: core, runtime and the
wiring's ``serve_shards``) share 4 shards on one database, a SQLite file or a PostgreSQL
schema, at most 2 each: two hold them, one stands by. The parent serves the fake Discord with
a guild on every shard, checks that ``/joke`` is answered in each, SIGKILLs the holder of
shard 0, waits for the standby to take its shards once their leases ran out, and checks every
guild again; then starts a new standby and kills the holder of shard 3 the same way. The
fake's connection log must never show two connections open at once for one shard. A second
test freezes a holder (SIGSTOP) instead: Discord drops its silent connections, another process
takes its shards, and once thawed it takes nothing back.
"""

import asyncio
import functools
import logging
import os
import signal
import sys
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest

from bot.store import open_store
from bot.store.shards import shard_duty
from tests.e2e.test_discord_shards import OTHERS, ask_everywhere
from tests.support.db import rows
from tests.support.discord_shard_child import COUNT, LEASE_S
from tests.support.fake_discord import GUILD_ID, SESSION_TIMED_OUT, FakeDiscord, serve_fake
from tests.support.postgres import scratch_schema

log = logging.getLogger(__name__)
REPO = Path(__file__).resolve().parents[2]
SHARDS = set(range(COUNT))
BACKENDS = ["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]


@pytest.fixture(params=BACKENDS)
async def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[str]:
    """A fresh database, migrated once here (not by three children at once)."""
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'bot.db'}"
        await (await open_store(url)).close()
        yield url
        return
    async with scratch_schema() as url:
        await (await open_store(url)).close()
        yield url


class Bots:
    """The bot processes, by name; every one is killed at the end."""

    def __init__(self, db_url: str, fake: FakeDiscord) -> None:
        self._db_url, self._fake = db_url, fake
        self.procs: dict[str, asyncio.subprocess.Process] = {}
        self.errors: dict[str, bytes] = {}

    async def start(self, name: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO)}
        proc = await asyncio.create_subprocess_exec(
            sys.executable,
            *("-m", "tests.support.discord_shard_child", self._db_url, str(self._fake.port), name),
            cwd=REPO,
            env=env,
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
        )
        self.procs[name] = proc
        assert proc.stdout is not None
        ready = await asyncio.wait_for(proc.stdout.readline(), 60)
        assert ready == b"ready\n", f"{name} did not start: {ready!r}"

    async def kill(self, name: str) -> None:
        proc = self.procs.pop(name)
        proc.kill()
        _, self.errors[name] = await proc.communicate()

    async def kill_all(self) -> None:
        for name in list(self.procs):
            await self.kill(name)


def holders(db_url: str) -> dict[int, str]:
    """Who holds each shard's unexpired lease (the process name), from the database."""
    found = rows(db_url, "SELECT name, holder, lease_until FROM duties")
    by_name = {r["name"]: r for r in found if r["lease_until"] >= time.time()}
    held = {s: by_name.get(shard_duty(s, COUNT)) for s in SHARDS}
    return {s: str(r["holder"]).partition("~")[0] for s, r in held.items() if r is not None}


async def until(what: str, cond: Callable[[], bool], timeout: float = 60.0) -> float:
    """Wait (real time: real processes) until ``cond``; how long it took."""
    start = time.monotonic()
    while not cond():
        if time.monotonic() - start > timeout:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(0.05)
    return time.monotonic() - start


def all_served(fake: FakeDiscord, db_url: str, alive: set[str]) -> bool:
    """Every shard connected, and leased to a live process."""
    owners = holders(db_url)
    return (
        fake.shards_connected() == SHARDS
        and set(owners) == SHARDS
        and set(owners.values()) <= alive
    )


def no_tracebacks(bots: Bots) -> None:
    for name, err in bots.errors.items():
        assert b"Traceback" not in err, f"{name}: {err.decode(errors='replace')}"


async def answered_everywhere(fake: FakeDiscord) -> None:
    answers = await ask_everywhere(fake, timeout=10.0)
    assert answers[GUILD_ID].startswith("Got it! Drafting a joke")
    assert all("/jokeconfig" in answers[g] for g in OTHERS)  # those guilds are not set up


@pytest.mark.slow
async def test_killed_shard_holder_hands_its_shards_over_and_never_two(db_url: str) -> None:
    handovers = []
    async with serve_fake(shard_count=COUNT, guilds=OTHERS) as fake:
        bots = Bots(db_url, fake)
        try:
            for name in ("bot-1", "bot-2", "bot-3"):
                await bots.start(name)
            await until("4 shards served", lambda: all_served(fake, db_url, set(bots.procs)))
            await answered_everywhere(fake)

            for shard, fresh in ((0, "bot-4"), (3, None)):
                victim = holders(db_url)[shard]
                moved = {s for s, h in holders(db_url).items() if h == victim}
                await bots.kill(victim)
                took = await until(
                    f"shards {moved} taken over",
                    functools.partial(all_served, fake, db_url, set(bots.procs)),
                )
                handovers.append(took)
                await answered_everywhere(fake)
                if fresh is not None:
                    await bots.start(fresh)  # a new standby for the next kill
        finally:
            await bots.kill_all()
        overlaps = fake.gateway.overlaps()
        per_shard = {
            s: sum(c.shard == (s, COUNT) for c in fake.gateway.connections) for s in SHARDS
        }

    assert overlaps == []
    assert sum(per_shard.values()) >= COUNT + 4  # two handovers of two shards each at least
    assert all(took < LEASE_S * 4 / 3 + 10 for took in handovers), handovers
    no_tracebacks(bots)
    log.info("shard handovers took %s s; connections per shard %s", handovers, per_shard)


@pytest.mark.slow
async def test_frozen_shard_holder_wakes_up_without_its_shards(db_url: str) -> None:
    # Heartbeats every 250 ms, a silent connection dropped after 1 s: Discord's behaviour with
    # a frozen client, faster than a lease (3 s) can run out.
    options = {"shard_count": COUNT, "guilds": OTHERS, "heartbeat_ms": 250, "zombie_after_s": 1.0}
    async with serve_fake(**options) as fake:
        bots = Bots(db_url, fake)
        try:
            for name in ("bot-1", "bot-2", "bot-3"):
                await bots.start(name)
            await until("4 shards served", lambda: all_served(fake, db_url, set(bots.procs)))
            victim = holders(db_url)[0]
            others = set(bots.procs) - {victim}

            bots.procs[victim].send_signal(signal.SIGSTOP)
            took = await until(
                "the frozen holder's shards taken over",
                functools.partial(all_served, fake, db_url, others),
            )
            await answered_everywhere(fake)
            owners = holders(db_url)
            bots.procs[victim].send_signal(signal.SIGCONT)
            await asyncio.sleep(LEASE_S)  # real time: it wakes, finds its leases gone, settles
            await answered_everywhere(fake)
            after = holders(db_url)
            connected = fake.shards_connected()
        finally:
            await bots.kill_all()
        overlaps = fake.gateway.overlaps()
        dropped = [c for c in fake.gateway.connections if c.close_code == SESSION_TIMED_OUT]

    assert overlaps == []
    assert len(dropped) == 2  # the frozen holder's two connections, dropped by "Discord"
    assert after == owners  # it took nothing back
    assert connected == SHARDS
    no_tracebacks(bots)
    log.info("frozen holder's shards moved after %.1f s", took)
