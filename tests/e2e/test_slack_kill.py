"""kill -9 on Slack: the real Slack sender in a child process, a busy public channel and lost
answers; never a second public post, and every case that cannot be proven ends ``uncertain``
with an alert to the moderators.

The fake Slack lives in this (the test) process and outlives every killed bot. The public
channel is busy: after each of the bot's posts, 150-400 messages from someone else. A quarter
of the bot's public posts succeed but answer ``internal_error`` (a lost answer), so the bot must
reconcile, paging back through the chatter. After the kill rounds a last bot settles the
database (on a fake clock that jumps past every backoff) and the evidence is counted.

4 kill rounds in the normal suite; ``JOKEBOT_SLACK_SOAK_ROUNDS=100`` for a long soak. The seed
and the figures are in the failure message (and printed: ``pytest -s``).
"""

import asyncio
import json
import os
import random
import sqlite3
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot.clock import SystemClock
from bot.models import DecisionRequest
from bot.store import open_store
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack
from tests.support.runtime_invariants import Snapshot
from tests.support.slack_crash_child import MODERATOR, runtime

ROUNDS = int(os.environ.get("JOKEBOT_SLACK_SOAK_ROUNDS", "4"))
REPO = Path(__file__).resolve().parents[2]
CHANNELS = {"CMOD": "mods", "CPUB": "jokes", "CGEN": "general"}
BUSY = (150, 400)  # other people's messages after each of the bot's public posts
LOST = 0.25  # share of successful public posts whose answer is lost (internal_error)

pytestmark = [pytest.mark.slow, pytest.mark.usefixtures("no_slack_env")]


@dataclass
class Evidence:
    """What happened, counted from the database and the fake Slack."""

    kills: int
    runs: int
    approved: int
    publishes: Counter[str]  # publish effects by final status
    posts: int  # public posts that carry a publish effect id
    duplicates: int  # public posts beyond the first of each run
    uncertain: int  # effects of any kind that ended uncertain
    alerted: int  # of those, how many have their alert posted in the moderator channel
    lost_answers: int
    found_by_reconcile: int  # publish effects settled by finding the post in history
    sent_after_absence: int  # publish effects sent again once their absence was proven
    why: Counter[str]  # why the uncertain ones could not be proven, by the scan's words

    def line(self) -> str:
        return (
            f"{self.kills} kills, {self.runs} runs, {self.approved} approved, "
            f"publish effects {dict(self.publishes)}, {self.posts} public posts, "
            f"{self.duplicates} duplicates, {self.uncertain} uncertain, {self.alerted} alerted, "
            f"{self.lost_answers} lost answers, {self.found_by_reconcile} found by reconcile, "
            f"{self.sent_after_absence} sent after absence proven; "
            f"unproven because: {dict(self.why)}"
        )


async def kill_at_random(db: Path, fake: FakeSlack, tag: str, rng: random.Random) -> None:
    """Start the bot, let it work for a random moment, then SIGKILL it."""
    log = db.with_suffix(f".{tag}.log")
    with log.open("wb") as err:
        child = await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.support.slack_crash_child",
            str(db),
            fake.base_url,
            tag,
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            stdout=asyncio.subprocess.PIPE,
            stderr=err,
        )
        try:
            assert child.stdout is not None
            ready = await asyncio.wait_for(child.stdout.readline(), 30)
            assert ready == b"ready\n", f"child did not start: {ready!r}"
            await asyncio.sleep(rng.uniform(0.2, 1.5))  # real time: this is a real crash
            assert child.returncode is None, "the child died by itself"
        finally:
            child.kill()
            await child.wait()
    text = log.read_text(errors="replace")
    assert "Traceback" not in text, text[-3000:]


async def settle(db: Path, fake: FakeSlack) -> None:
    """A last boot: approve what still waits, and drive every effect to an end."""
    clock = FakeClock(start=time.time() + 1)
    fake.clock = clock  # Slack's ts and the bot's clock move together from here on
    store = await open_store(f"sqlite:///{db}")
    rt = runtime(store, fake.base_url, clock)
    try:
        await rt.recover()
        for round_ in range(50):
            clock.advance(400)  # past every backoff (5 min at most) and every lease
            await rt.drain()
            async with store.read() as tx:
                waits = await tx.pending_waits("slack", "T0TEAM")
            for i, wait in enumerate(waits):
                request = DecisionRequest(wait.token, "approve", MODERATOR, f"final-{round_}-{i}")
                await rt.decide(request)
            await rt.drain()
            if not waits and not _open_effects(db):
                return
        raise AssertionError("the last boot did not settle")
    finally:
        await store.close()


def _open_effects(db: Path) -> int:
    conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True)
    try:
        (n,) = conn.execute(
            "SELECT COUNT(*) FROM outbox WHERE status IN ('pending', 'in_flight')"
        ).fetchone()
        return int(n)
    finally:
        conn.close()


def evidence(db: Path, fake: FakeSlack, kills: int, lost: int) -> Evidence:
    """Count runs, posts, duplicates, uncertain effects and their alerts."""
    snap = Snapshot.load(db)
    posts_by_effect = Counter(
        str(m.metadata["event_payload"]["effect_id"])
        for m in fake.messages("CPUB")
        if m.by_bot and m.metadata
    )
    mod_effects = {
        str(m.metadata["event_payload"]["effect_id"]) for m in fake.messages("CMOD") if m.metadata
    }
    publishes = [e for e in snap.outbox if e["kind"] == "publish"]
    by_id = {e["effect_id"]: e for e in snap.outbox}
    per_run = Counter(by_id[eid]["run_id"] for eid in posts_by_effect.elements())
    uncertain = [e for e in snap.outbox if e["status"] == "uncertain"]
    alerted = sum(1 for e in uncertain if f"{e['effect_id']}:alert" in mod_effects)
    done = [
        json.loads(a["data_json"])
        for a in snap.audit
        if a["event"] == "effect.done" and json.loads(a["data_json"]).get("kind") == "publish"
    ]
    approved = sum(1 for w in snap.waits if snap.action(w) in ("approve", "edit"))
    duplicates = sum(n - 1 for n in per_run.values())  # a run publishes one effect, once
    return Evidence(
        kills=kills,
        runs=len(snap.runs),
        approved=approved,
        publishes=Counter(e["status"] for e in publishes),
        posts=sum(posts_by_effect.values()),
        duplicates=duplicates,
        uncertain=len(uncertain),
        alerted=alerted,
        lost_answers=lost,
        found_by_reconcile=sum(1 for d in done if d.get("via") == "reconcile"),
        sent_after_absence=sum(1 for d in done if d.get("via") == "send" and d["attempts"] > 1),
        why=Counter(_reason(e["last_error"]) for e in uncertain),
    )


def _reason(error: str) -> str:
    for words in ("not among", "ratelimited", "no cursor", "not_in_channel", "missing_scope"):
        if words in error:
            return words
    return error[:80]


async def test_kill_9_in_a_busy_channel_with_lost_answers_never_double_posts(
    tmp_path: Path,
) -> None:
    seed = random.randrange(1 << 30)
    rng = random.Random(seed)
    db = tmp_path / "bot.db"
    async with FakeSlack(CHANNELS, clock=SystemClock(), seed=seed) as fake:
        fake.busy["CPUB"] = BUSY
        fake.lose_answers("chat.postMessage", LOST, channel="CPUB")
        for round_ in range(ROUNDS):
            await kill_at_random(db, fake, f"s{seed}r{round_}", rng)
        lost = fake.losses.pop("chat.postMessage").count
        await settle(db, fake)
        found = evidence(db, fake, ROUNDS, lost)
        print(f"\nslack kill -9 (seed {seed}): {found.line()}")  # noqa: T201

    context = f"seed {seed}: {found.line()}"
    assert found.duplicates == 0, context
    assert found.uncertain == found.alerted, context  # every unprovable case was alerted
    done = found.publishes.get("done", 0)
    assert found.posts == done + _posted_uncertain(db, fake), context
    assert found.approved > 0, context
    assert done > 0, context
    assert set(found.publishes) <= {"done", "uncertain"}, context


def _posted_uncertain(db: Path, fake: FakeSlack) -> int:
    """Public posts of uncertain publish effects (they may have reached the channel)."""
    snap = Snapshot.load(db)
    uncertain = {
        e["effect_id"] for e in snap.outbox if e["kind"] == "publish" and e["status"] == "uncertain"
    }
    return sum(
        1
        for m in fake.messages("CPUB")
        if m.metadata and m.metadata["event_payload"]["effect_id"] in uncertain
    )
