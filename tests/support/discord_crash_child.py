"""The bot process killed by tests/e2e/test_discord_kill.py: jokebot's core and the real
discord.py client against the parent's fake Discord, serving until SIGKILL.

Usage: ``python -m tests.support.discord_crash_child DB PORT``. Writes ``ready`` to stdout
once the client is connected; the parent then plays Discord's users (``/joke``, Approve).
"""

import asyncio
import sys
from pathlib import Path

from adapters.discord_adapter import build_discord, use_endpoints
from bot.app import open_core
from bot.joke import JokeOptions
from tests.support.fake_discord import CONFIGURED, TOKEN
from tests.support.llm import FakeLLM

RUNNER_ID = "bot-1"  # the same id across restarts: a rebooted bot takes its leases back at once
JOKE = "What do cats eat for breakfast? Mice Krispies."


async def serve(db: Path, port: int) -> None:
    """Boot (recovery included), connect to the fake, serve until killed."""
    use_endpoints(f"http://127.0.0.1:{port}/api/v10", f"ws://127.0.0.1:{port}/gateway")
    options = JokeOptions(cooldown_s=0.0)
    async with open_core(
        database_url=f"sqlite:///{db}", llm=FakeLLM(JOKE), options=options, runner_id=RUNNER_ID
    ) as core:
        await core.service.save_scope(CONFIGURED)
        client, sender = build_discord(core.service, guild_ready_timeout=0.05)
        core.register_sender("discord", sender)
        async with core.serving(), client:
            task = asyncio.create_task(client.start(TOKEN))
            while not client.is_ready():
                if task.done():
                    task.result()
                await asyncio.sleep(0.01)
            sys.stdout.write("ready\n")
            sys.stdout.flush()
            await task


if __name__ == "__main__":
    asyncio.run(serve(Path(sys.argv[1]), int(sys.argv[2])))
