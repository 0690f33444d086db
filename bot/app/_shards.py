"""Wiring: Discord over several processes, each connecting the shards it leases.

``DISCORD_SHARD_COUNT`` = N > 1 turns it on: shard ids are leased through the database
(``bot.store.shards``), :func:`bot.shards.hold_shards` keeps one ``ShardedJokeClient`` running
for the shards held, with a fresh client (and sender) whenever that set changes.
"""

import asyncio
from typing import Any

from bot.app._core import Core
from bot.config import Settings
from bot.ports import ConnectionHook
from bot.shards import hold_shards
from bot.store.shards import ShardLeases, shard_holder


def shard_leases(settings: Settings, core: Core) -> ShardLeases:
    """This process's shard leases, as the settings configure them."""
    return ShardLeases(
        core.store,
        shard_holder(core.runtime.runner_id),
        core.clock,
        count=settings.discord_shard_count,
        limit=settings.discord_shards_per_process,
        lease_s=settings.discord_shard_lease_s,
    )


async def serve_shards(token: str, core: Core, leases: ShardLeases, **client_options: Any) -> None:
    """Serve the Discord shards this process holds until cancelled (then give them up)."""
    from adapters.discord_adapter import build_discord, run_discord

    async def serve(shards: frozenset[int]) -> None:
        def fence() -> bool:  # before every gateway connection: still ours, still in time
            return leases.live() and shards <= leases.held

        client, sender = build_discord(
            core.service,
            shard_ids=sorted(shards),
            shard_count=leases.count,
            fence=fence,
            **client_options,
        )
        core.register_sender("discord", sender)
        try:
            await run_discord(token, core.service, client=client)
        except asyncio.CancelledError:
            standing_by()  # until a client for the next set reports
            raise

    def standing_by() -> None:
        if report is not None:
            report(True, "no Discord shard held: standing by for a free one")

    report: ConnectionHook | None = client_options.get("on_connection")
    standing_by()
    await hold_shards(leases, serve, core.clock)
