"""``jokebot serve`` as a child process against the test's fakes, to be SIGKILLed and rebooted.

:class:`ServeChild` runs ``python -m bot serve`` with an environment pointing Discord, Slack
(HTTP mode) and the OpenAI-compatible model at servers the test process runs, on one SQLite
file; :meth:`ServeChild.start` returns once ``/health/ready`` answers 200, :meth:`kill` is a
``kill -9``. :class:`SlackClient` plays Slack's side of HTTP mode: signed slash commands and
button clicks POSTed to the child's Slack port.
"""

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import aiohttp

from adapters.slack_adapter import EVENTS_PATH
from tests.support.fake_discord import TOKEN as DISCORD_TOKEN
from tests.support.fake_slack import BOT_TOKEN, FakeSlack, signed_headers
from tests.support.slack_harness import SECRET
from tests.support.slack_payloads import click_payload, command_body, form, new_trigger

REPO = Path(__file__).resolve().parents[2]
_OURS = ("SLACK_", "DISCORD_", "OPENAI_", "LLM_", "DATABASE_URL", "HEALTH_", "COOLDOWN_S")


def free_port() -> int:
    """A TCP port nobody listens on now (the child binds it a moment later)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class ServeChild:
    """One ``jokebot serve`` process at a time over ``db``, restartable on the same ports."""

    def __init__(
        self, db: Path, *, discord_port: int, slack: FakeSlack, llm_base_url: str, **env: str
    ) -> None:
        self.health_port, self.slack_port = free_port(), free_port()
        base = {k: v for k, v in os.environ.items() if not k.startswith(_OURS)}
        self.env = {
            **base,
            "PYTHONPATH": str(REPO),
            "DISCORD_TOKEN": DISCORD_TOKEN,
            "DISCORD_API_BASE": f"http://127.0.0.1:{discord_port}/api/v10",
            "DISCORD_GATEWAY_URL": f"ws://127.0.0.1:{discord_port}/gateway",
            "SLACK_BOT_TOKEN": BOT_TOKEN,
            "SLACK_SIGNING_SECRET": SECRET,
            "SLACK_HTTP_PORT": str(self.slack_port),
            "SLACK_API_BASE": slack.base_url,
            "SLACK_MOD_CHANNEL": "CMOD",
            "SLACK_PUBLIC_CHANNEL": "CPUB",
            "SLACK_MODERATORS": "UMOD",
            "OPENAI_BASE_URL": llm_base_url,
            "DATABASE_URL": f"sqlite:///{db}",
            "HEALTH_PORT": str(self.health_port),
            "COOLDOWN_S": "0",
            **env,
        }
        self.argv: tuple[str, ...] = ("-m", "bot", "serve")  # what the child runs
        self.connected: Callable[[], bool] = lambda: True  # e.g. the fake Discord's clients
        self._process: asyncio.subprocess.Process | None = None
        self.stderr: list[bytes] = []  # of every process that ran, in order
        self.boots = 0

    async def start(self, *, timeout: float = 60.0) -> None:
        """Start ``jokebot serve``; return once it is ready and both platforms reach it.

        ``/health/ready`` counts a surface as ready once it runs; the Discord client may still
        be connecting, so this also waits for :attr:`connected` (the test knows its fakes) and
        for the Slack HTTP port to accept connections.
        """
        assert self._process is None, "already running"
        self._process = await asyncio.create_subprocess_exec(
            sys.executable,
            *self.argv,
            cwd=REPO,
            env=self.env,
            stdout=asyncio.subprocess.DEVNULL,
            stderr=asyncio.subprocess.PIPE,
        )
        self.boots += 1
        url = f"http://127.0.0.1:{self.health_port}/health/ready"
        async with aiohttp.ClientSession() as http, asyncio.timeout(timeout):
            while True:
                if self._process.returncode is not None:
                    await self.kill()
                    raise AssertionError(f"serve exited: {self.stderr[-1].decode()[-2000:]}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(url) as reply:
                        if reply.status == 200 and self.connected() and self._slack_listens():
                            return
                await asyncio.sleep(0.05)

    def cpu_seconds(self) -> float:
        """CPU time (user + system) the running process has used so far (Linux /proc)."""
        assert self._process is not None, "not running"
        fields = Path(f"/proc/{self._process.pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def _slack_listens(self) -> bool:
        with socket.socket() as s:
            return s.connect_ex(("127.0.0.1", self.slack_port)) == 0

    async def kill(self) -> None:
        """``kill -9`` the process and collect what it wrote to stderr."""
        process, self._process = self._process, None
        if process is None:
            return
        with contextlib.suppress(ProcessLookupError):
            process.kill()
        _, err = await process.communicate()
        self.stderr.append(err)

    async def restart(self) -> None:
        """``kill -9``, then boot again on the same database and ports.

        In between, the platforms are given up to 10 s to notice the dead connection, so
        :attr:`connected` is not fooled by the old one.
        """
        await self.kill()
        for _ in range(200):
            if not self.connected():
                break
            await asyncio.sleep(0.05)
        await self.start()

    def tracebacks(self) -> list[str]:
        """The stderr of every process that logged a traceback."""
        return [e.decode(errors="replace") for e in self.stderr if b"Traceback" in e]


class SlackClient:
    """Slack's side of HTTP mode: signed requests to the bot's events URL."""

    def __init__(self, fake: FakeSlack, port: int, session: aiohttp.ClientSession) -> None:
        self.fake, self.url, self.session = fake, f"http://127.0.0.1:{port}{EVENTS_PATH}", session

    async def post(self, body: str) -> tuple[int, str]:
        """POST a signed body; (status, response text)."""
        self.fake.deliver(body)  # Slack issues the interaction's trigger_id as it sends it
        headers = signed_headers(SECRET, body)
        async with self.session.post(self.url, data=body.encode(), headers=headers) as reply:
            return reply.status, await reply.text()

    async def command(self, text: str, *, user: str, channel: str) -> tuple[int, str]:
        """``/joke <text>`` typed by ``user`` in ``channel``."""
        body = command_body(
            text,
            user=user,
            channel=channel,
            trigger=new_trigger(),
            response_url=self.fake.webhook_url(f"cmd-{user}"),
        )
        return await self.post(body)

    async def click(
        self, card: Mapping[str, Any], action: str, *, user: str, channel: str = "CMOD"
    ) -> tuple[int, str]:
        """Click ``action`` on ``card`` (a message snapshot with ``ts`` and ``blocks``)."""
        payload = click_payload(
            card,
            channel,
            action,
            user=user,
            trigger=new_trigger(),
            response_url=self.fake.webhook_url(f"click-{user}"),
        )
        return await self.post(form(payload))
