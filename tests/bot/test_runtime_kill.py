"""CP11: kill -9 a real bot process at random moments; the database must always open in a
consistent state (before or after each step) and a restarted bot must converge.

~30 rounds in the normal suite; ``JOKEBOT_SOAK_ROUNDS=200`` for a long soak. The seed is in
the failure message.
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
from tests.support.runtime_flows import Drafter, build_review_flow
from tests.support.runtime_harness import ALICE, PLATFORM
from tests.support.runtime_invariants import check_invariants

ROUNDS = int(os.environ.get("JOKEBOT_SOAK_ROUNDS", "30"))
REPO = Path(__file__).resolve().parents[2]


def kill_at_random(db: Path, journal: Path, tag: str, rng: random.Random) -> None:
    """Start the bot, let it work for a random moment, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    child = subprocess.Popen(
        [sys.executable, "-m", "tests.support.crash_child", str(db), str(journal), tag],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        ready = child.stdout.readline()
        assert ready == "ready\n", f"child did not start: {ready!r}"
        time.sleep(rng.uniform(0.0, 0.25))  # real time on purpose: this is a real crash
        assert child.poll() is None, "the child died by itself"
    finally:
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
    assert "Traceback" not in err, err


def check_opens_consistently(db: Path, journal: Path) -> None:
    """The file opens, passes integrity_check, and its state is consistent (I1, I3-I6)."""
    conn = sqlite3.connect(db)  # a writable open replays the WAL left by the killed process
    try:
        assert conn.execute("PRAGMA integrity_check").fetchone() == ("ok",)
    finally:
        conn.close()
    check_invariants(db, FakePlatform(SystemClock(), journal=journal), drained=False, skip=("I8",))


async def restart_and_settle(db: Path, journal: Path) -> FakePlatform:
    """Boot once more, approve whatever still waits, drain everything."""
    store = await open_store(f"sqlite:///{db}")
    clock = SystemClock()
    platform = FakePlatform(clock, journal=journal)
    runtime = Runtime(
        store,
        {"review": build_review_flow(Drafter())},
        {PLATFORM: platform},
        clock,
        runner_id=RUNNER_ID,
    )
    try:
        await runtime.recover()
        await runtime.drain()
        for i, token in enumerate(await pending_tokens(runtime, platform)):
            await runtime.decide(DecisionRequest(token, "approve", ALICE, f"final-{i}"))
        await runtime.drain()
    finally:
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
