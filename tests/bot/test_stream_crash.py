"""kill -9 while the model is streaming a draft: the partial text is never committed, the
restarted bot drafts again from the start, and its watchers see that as a new draft.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import AsyncIterator
from pathlib import Path

from bot.app import open_core
from bot.clock import SystemClock
from bot.joke import JokeOptions
from bot.llm import OpenAIChat
from bot.models import DraftEvent, DraftStage
from tests.support import FakePlatform
from tests.support.db import rows
from tests.support.llm_server import FakeOpenAIServer, streamed
from tests.support.runtime_harness import ALICE, PLATFORM
from tests.support.runtime_invariants import check_invariants
from tests.support.stream_crash_child import REQUEST, RUNNER_ID

REPO = Path(__file__).resolve().parents[2]
FIRST = ("Why", " did", " the", " owl", " stay", " home?", " Too", " hoot!")
SECOND = ("Why", " do", " cats", " hate", " poker?", " Too", " many", " cheetahs!")


def crash_mid_stream(db: Path, journal: Path, server: FakeOpenAIServer) -> None:
    """Run the child until the server has streamed three pieces, then SIGKILL it."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    args = [sys.executable, "-m", "tests.support.stream_crash_child", str(db), str(journal)]
    child = subprocess.Popen(
        [*args, server.base_url],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert child.stdout is not None
        assert child.stdout.readline() == "ready\n"
        assert server.wait_sent(3, timeout=60), "the child never streamed"
    finally:
        alive = child.poll() is None
        child.send_signal(signal.SIGKILL)
        _, err = child.communicate()
    assert alive, err
    assert "Traceback" not in err, err


async def test_a_crash_mid_stream_resumes_with_a_fresh_draft(
    tmp_path: Path, server: FakeOpenAIServer
) -> None:
    db, journal = tmp_path / "bot.db", tmp_path / "platform.jsonl"
    hold = threading.Event()  # never set: the first stream stops after three pieces
    server.script(streamed(*FIRST, fail_after=3, hold=hold), streamed(*SECOND))
    crash_mid_stream(db, journal, server)
    partial = "".join(FIRST[:3])

    clock = SystemClock()
    platform = FakePlatform(clock, journal=journal)
    llm = OpenAIChat(model="test-model", base_url=server.base_url, timeout=10, max_retries=0)
    try:
        async with open_core(
            database_url=f"sqlite:///{db}",
            llm=llm,
            clock=clock,
            options=JokeOptions(cooldown_s=0),
            runner_id=RUNNER_ID,
        ) as core:
            core.register_sender(PLATFORM, platform)
            watcher = asyncio.create_task(collect(core.service.watch(REQUEST.request_key)))
            await asyncio.sleep(0)
            await core.runtime.recover()
            await core.runtime.drain()
            events = await asyncio.wait_for(watcher, 10)
            [card] = platform.cards(REQUEST.request_key)
            token = str(card.payload["token"])
            await platform.click(core.service.decide, token, "approve", ALICE)
            await core.runtime.drain()
    finally:
        hold.set()
        await llm.close()

    second = "".join(SECOND)
    assert card.payload["card"]["draft"] == second
    assert [p.payload["text"] for p in platform.public_posts()] == [second]
    assert events[0] == DraftEvent(DraftStage.STARTED, 1)  # the redo is announced afresh
    assert "".join(e.text for e in events if e.stage == DraftStage.DELTA) == second
    assert events[-1] == DraftEvent(DraftStage.FINISHED, 1, second)
    first, redo = [r.json for r in server.chat_requests()]
    assert first == redo  # the same request again: same prompt, same seed
    assert first["stream"] is True
    tables = ("SELECT * FROM runs", "SELECT * FROM audit", "SELECT * FROM outbox")
    stored = json.dumps([list(r.values()) for sql in tables for r in rows(db, sql)])
    assert partial not in stored  # nothing of the interrupted stream was committed
    check_invariants(db, platform, drained=True)


async def collect(events: AsyncIterator[DraftEvent]) -> list[DraftEvent]:
    return [event async for event in events]
