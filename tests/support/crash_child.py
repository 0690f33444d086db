"""The bot process killed by test_runtime_kill.py: a runtime over a database and a
journal-backed FakePlatform, booting (recovery) and then working flat out until SIGKILL.

Usage: ``python -m tests.support.crash_child DB JOURNAL TAG [RUNNER_ID]``; DB is a SQLite file
or a database URL. With a RUNNER_ID other processes share the database and the journal (each
sees the others' cards and decides them too). Writes ``ready`` to stdout once it has opened
the database. Every round asks for three jokes at the door (a scope limit of ``LIMIT``: the
third waits in line, so kills land in admissions too), drains them to their cards, decides
every pending card (mostly approve, some rejects) and drains again.
"""

import asyncio
import random
import sys
from pathlib import Path

from bot.clock import SystemClock
from bot.models import DecisionRequest
from bot.runtime import Runtime
from bot.store import open_store
from tests.support import FakePlatform
from tests.support.db import Target, url_of
from tests.support.runtime_flows import Drafter, build_review_flow, initial_state
from tests.support.runtime_harness import ALICE, ORIGIN, PLATFORM

RUNNER_ID = "bot-1"  # the same id across restarts: a rebooted bot takes its leases back at once
LIMIT = 2  # runs of the scope drafting or in review at once


async def pending_tokens(runtime: Runtime, platform: FakePlatform) -> list[str]:
    """Tokens of cards whose wait is still pending."""
    tokens = []
    for card in platform.cards():
        info = await runtime.wait_info(str(card.payload["token"]))
        if info is not None and info.status == "pending":
            tokens.append(info.token)
    return tokens


async def work(db: Target, journal: Path, tag: str, runner_id: str | None = None) -> None:
    store = await open_store(url_of(db))
    clock = SystemClock()
    platform = FakePlatform(
        clock, journal=journal, shared=runner_id is not None, ref_prefix=runner_id or ""
    )
    flows = {"review": build_review_flow(Drafter())}
    runtime = Runtime(store, flows, {PLATFORM: platform}, clock, runner_id=runner_id or RUNNER_ID)
    sys.stdout.write("ready\n")  # before recovery, so some kills land in the middle of it
    sys.stdout.flush()
    await runtime.recover()
    rng = random.Random(tag)
    for n in range(1_000_000):
        for k in range(3):
            await runtime.request_run(
                "review",
                f"{tag}-{n}-{k}",
                ORIGIN,
                initial_state(timeout_s=None),
                topic="cats",
                max_active=LIMIT,
            )
        await runtime.drain()
        for i, token in enumerate(await pending_tokens(runtime, platform)):
            action = "reject" if rng.random() < 0.2 else "approve"
            await runtime.decide(DecisionRequest(token, action, ALICE, f"{tag}-{n}-{i}"))
        await runtime.drain()


if __name__ == "__main__":
    target: Target = sys.argv[1] if "://" in sys.argv[1] else Path(sys.argv[1])
    asyncio.run(work(target, Path(sys.argv[2]), sys.argv[3], *sys.argv[4:5]))
