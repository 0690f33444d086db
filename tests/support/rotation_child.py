"""A bot process that needs a workspace's token, for the rotation race (test_slack_rotation).

Usage: ``python -m tests.support.rotation_child DATABASE_URL API_BASE TEAM``. Opens the store,
writes ``ready``, waits for a line on stdin (so that two children start at the same moment),
asks :class:`adapters.slack_adapter._workspaces.Workspaces` for the token (refreshing it if it
is due) and writes it, then calls ``auth.test`` with it and writes the team it answered for.
"""

import asyncio
import sys

from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._workspaces import Workspaces
from bot.clock import SystemClock
from bot.store import open_store
from bot.store.installations import StoreInstallations
from tests.support.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET


async def main(url: str, api_base: str, team: str) -> None:
    store = await open_store(url)
    try:
        workspaces = Workspaces(
            StoreInstallations(store),
            AsyncWebClient(base_url=api_base),
            client_id=CLIENT_ID,
            client_secret=CLIENT_SECRET,
            clock=SystemClock(),
        )
        print("ready", flush=True)  # noqa: T201  # the parent reads this
        await asyncio.get_running_loop().run_in_executor(None, sys.stdin.readline)
        token = await workspaces.token(team)
        print(token, flush=True)  # noqa: T201
        answer = await AsyncWebClient(token=token, base_url=api_base).auth_test()
        print(answer["team_id"], flush=True)  # noqa: T201
    finally:
        await store.close()


if __name__ == "__main__":
    asyncio.run(main(*sys.argv[1:4]))
