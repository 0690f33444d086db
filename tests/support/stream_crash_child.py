"""A bot process killed mid-stream by test_stream_crash.py: the real joke flow drafting through
OpenAIChat (streaming) against the test's fake OpenAI server, until SIGKILL.

Usage: ``python -m tests.support.stream_crash_child DB JOURNAL BASE_URL``. Writes ``ready``
once the request is accepted, then drafts (the server holds the stream midway).
"""

import asyncio
import sys
from pathlib import Path

from bot.app import open_core
from bot.clock import SystemClock
from bot.joke import JokeOptions
from bot.llm import OpenAIChat
from bot.models import JokeRequest
from tests.support import FakePlatform
from tests.support.runtime_harness import ORIGIN, PLATFORM

RUNNER_ID = "bot-1"  # the restarted bot takes the lease back at once
REQUEST = JokeRequest("stream-1", ORIGIN, "cats")


async def work(db: Path, journal: Path, base_url: str) -> None:
    clock = SystemClock()
    llm = OpenAIChat(model="test-model", base_url=base_url, timeout=60, max_retries=0)
    async with open_core(
        database_url=f"sqlite:///{db}",
        llm=llm,
        clock=clock,
        options=JokeOptions(cooldown_s=0),
        runner_id=RUNNER_ID,
    ) as core:
        core.register_sender(PLATFORM, FakePlatform(clock, journal=journal))
        await core.service.request_joke(REQUEST)
        sys.stdout.write("ready\n")
        sys.stdout.flush()
        await core.runtime.drain()  # streams until the test kills this process
        await asyncio.Event().wait()


if __name__ == "__main__":
    asyncio.run(work(Path(sys.argv[1]), Path(sys.argv[2]), sys.argv[3]))
