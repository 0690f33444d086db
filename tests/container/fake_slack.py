"""The fake Slack of ``tests/support`` for containers: ``python -m tests.container.fake_slack``.

The smoke test (``smoke.sh``) runs it from the jokebot image itself, on the compose network, so
the bot's Slack surface can pass its preflight (``auth.test``, ``conversations.info``) and turn
ready without reaching Slack. It serves until SIGTERM.
"""

import asyncio
import os
import signal

from tests.support.fake_slack import FakeSlack


async def main() -> None:
    """Serve the fake on ``0.0.0.0:$FAKE_SLACK_PORT`` (default 8000) until SIGTERM."""
    port = int(os.environ.get("FAKE_SLACK_PORT", "8000"))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    async with FakeSlack(host="0.0.0.0", port=port):  # noqa: S104  # inside its container
        await stop.wait()


if __name__ == "__main__":
    asyncio.run(main())
