"""One of several bot processes sharing Discord's shards (tests/e2e/test_discord_shard_handover.py).

Usage: ``python -m tests.support.discord_shard_child DATABASE_URL PORT NAME``. jokebot's core
and the wiring's ``serve_shards`` against the parent's fake Discord: it holds at most
:data:`PER_PROCESS` of :data:`COUNT` shards on :data:`LEASE_S`-second leases (real time), and
serves until SIGKILL. Writes ``ready`` to stdout once its core is serving.
"""

import asyncio
import sys

from adapters.discord_adapter import use_endpoints
from bot.app import open_core
from bot.app._shards import serve_shards
from bot.clock import SystemClock
from bot.joke import JokeOptions
from bot.store.shards import ShardLeases, shard_holder
from tests.support.fake_discord import CONFIGURED, TOKEN
from tests.support.llm import FakeLLM

COUNT = 4
PER_PROCESS = 2
LEASE_S = 3.0
JOKE = "Why did the shard cross the road? To reach the other guild."


async def serve(database_url: str, port: int, name: str) -> None:
    """Boot, then hold and serve shards until killed."""
    use_endpoints(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    clock = SystemClock()
    options = JokeOptions(cooldown_s=0.0)
    async with open_core(
        database_url=database_url, llm=FakeLLM(JOKE), clock=clock, options=options, runner_id=name
    ) as core:
        await core.service.save_scope(CONFIGURED)
        leases = ShardLeases(
            core.store, shard_holder(name), clock, count=COUNT, limit=PER_PROCESS, lease_s=LEASE_S
        )
        async with core.serving():
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            await serve_shards(
                TOKEN, core, leases, identify_spacing_s=0.0, guild_ready_timeout=0.05
            )


if __name__ == "__main__":
    asyncio.run(serve(sys.argv[1], int(sys.argv[2]), sys.argv[3]))
