"""CP11: kill -9 a real bot process at random moments; the database must always open in a
consistent state (before or after each step) and a restarted bot must converge. On
PostgreSQL, three processes share one schema and are killed one at a time at random while the
other two keep working.

~30 rounds (SQLite) and ~15 kills (PostgreSQL) in the normal suite; ``JOKEBOT_SOAK_ROUNDS=200``
for a long soak of both. The seed is in the failure message.
"""

import asyncio
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.models import DecisionRequest
from bot.runtime import Runtime
from bot.store import open_store
from tests.support import FakePlatform
from tests.support.crash_child import RUNNER_ID, pending_tokens
from tests.support.db import Target, rows, url_of
from tests.support.postgres import scratch_schema_sync
from tests.support.runtime_flows import Drafter, build_review_flow
from tests.support.runtime_harness import ALICE, PLATFORM
from tests.support.runtime_invariants import check_invariants

SOAK = os.environ.get("JOKEBOT_SOAK_ROUNDS")
ROUNDS = int(SOAK or "30")
PG_KILLS = int(SOAK or "15")
PG_RUNNERS = ("bot-1", "bot-2", "bot-3")
REPO = Path(__file__).resolve().parents[2]


def spawn(db: Target, journal: Path, tag: str, *runner_id: str) -> subprocess.Popen[str]:
    """Start a bot process; return once it has opened the database."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_child", str(db), str(journal), tag, *runner_id],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    assert child.stdout is not None
    ready = child.stdout.readline()
    if ready != "ready\n":
        kill(child)
        raise AssertionError(f"child did not start: {ready!r}")
    return child


def kill(child: subprocess.Popen[str]) -> None:
    """SIGKILL ``child``; it must not have died by itself or printed a traceback."""
    alive = child.poll() is None
    child.send_signal(signal.SIGKILL)
    _, err = child.communicate()
    assert alive, f"the child died by itself: {err}"
    assert "Traceback" not in err, err


def kill_at_random(db: Path, journal: Path, tag: str, rng: random.Random) -> None:
    """Start the bot, let it work for a random moment, then SIGKILL it."""
    child = spawn(db, journal, tag)
    try:
        time.sleep(rng.uniform(0.0, 0.25))  # real time on purpose: this is a real crash
    finally:
        kill(child)


def check_opens_consistently(db: Path, journal: Path) -> None:
    """The file opens, passes integrity_check, and its state is consistent (I1, I3-I6)."""
    conn = sqlite3.connect(db)  # a writable open replays the WAL left by the killed process
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    check_invariants(db, FakePlatform(SystemClock(), journal=journal), drained=False, skip=("I8",))


async def restart_and_settle(
    db: Target, journal: Path, runner_ids: tuple[str, ...] = (RUNNER_ID,)
) -> FakePlatform:
    """Boot once more (as every runner, to take back their leases), approve whatever still
    waits, drain everything.
    """
    clock = SystemClock()
    platform = FakePlatform(clock, journal=journal)
    stores = [await open_store(url_of(db)) for _ in runner_ids]
    flows = {"review": build_review_flow(Drafter())}
    runtimes = [
        Runtime(store, flows, {PLATFORM: platform}, clock, runner_id=runner_id)
        for store, runner_id in zip(stores, runner_ids, strict=True)
    ]
    try:
        for runtime in runtimes:
            await runtime.recover()
            await runtime.drain()
        decided: set[str] = set()
        round_ = 0
        # approving frees slots: requests in line get their cards, round after round, until
        # none is left; a token seen again after its approval never became decidable
        while tokens := await pending_tokens(runtimes[0], platform):
            assert not decided & set(tokens), "a review stayed undecidable"
            for i, token in enumerate(tokens):
                decision = DecisionRequest(token, "approve", ALICE, f"final-{round_}-{i}")
                await runtimes[0].decide(decision)
            decided |= set(tokens)
            round_ += 1
            for runtime in runtimes:
                await runtime.drain()
        assert await pending_tokens(runtimes[0], platform) == [], "a review stayed undecidable"
    finally:
        for store in stores:
            await store.close()
    return platform


@pytest.mark.slow
def test_kill_9_at_random_moments_never_corrupts_or_double_posts(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db, journal = tmp_path / "bot.db", tmp_path / "platform.jsonl"

    for round_ in range(ROUNDS):
        kill_at_random(db, journal, f"s{seed}r{round_}", rng)
        try:
            check_opens_consistently(db, journal)
        except AssertionError as exc:
            raise AssertionError(f"seed {seed}, round {round_}: {exc}") from exc
    platform = asyncio.run(restart_and_settle(db, journal))

    check_invariants(db, platform, drained=True, skip=("I8",))
    assert platform.public_posts(), f"seed {seed}: no run got as far as publishing"


@pytest.mark.slow
@pytest.mark.postgres
def test_kill_9_three_processes_on_one_postgres_schema(tmp_path: Path) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    journal = tmp_path / "platform.jsonl"
    with scratch_schema_sync() as url:
        asyncio.run(init(url))
        children = {r: spawn(url, journal, f"s{seed}k0{r}", r) for r in PG_RUNNERS}
        try:
            for k in range(1, PG_KILLS + 1):
                time.sleep(rng.uniform(0.0, 0.25))  # real time on purpose: real crashes
                victim = rng.choice(PG_RUNNERS)
                kill(children.pop(victim))
                try:  # the platform first: every post it shows was decided before the snapshot
                    platform = FakePlatform(SystemClock(), journal=journal)
                    check_invariants(url, platform, drained=False, skip=("I8",))
                except AssertionError as exc:
                    raise AssertionError(f"seed {seed}, kill {k} ({victim}): {exc}") from exc
                children[victim] = spawn(url, journal, f"s{seed}k{k}{victim}", victim)
        finally:
            for child in children.values():
                kill(child)
        platform = asyncio.run(restart_and_settle(url, journal, PG_RUNNERS))

        check_invariants(url, platform, drained=True, skip=("I8",))
        runs = rows(url, "SELECT status FROM runs")
        queued = rows(url, "SELECT run_id FROM requests WHERE state = 'queued'")
        stepped = {r["actor"] for r in rows(url, "SELECT actor FROM audit WHERE event = 'step'")}
    assert platform.public_posts(), f"seed {seed}: no run got as far as publishing"
    assert {r["status"] for r in runs} == {"finished"}, f"seed {seed}: {runs}"  # none lost
    assert queued == [], f"seed {seed}: requests left in line: {queued}"
    assert stepped == set(PG_RUNNERS), f"seed {seed}: only {stepped} did any work"


async def init(url: str) -> None:
    """Create the schema once, so the three first boots do not all migrate at once."""
    await (await open_store(url)).close()
