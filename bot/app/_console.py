"""Wiring for the web console: its secret, feed, board and app, served by uvicorn in our loop.

Under ``jokebot serve`` the console is one more supervised surface (when ``CONSOLE_PORT`` is
set); ``jokebot console`` runs it alone (with the runtime) and prints a one-time login link.
Binding anything but loopback needs ``CONSOLE_SECRET`` and a sign-in provider: a login link
printed to a terminal is no way to let the internet in.
"""

import asyncio
import contextlib
import ipaddress
import logging
import os
import secrets
import socket
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx2
import uvicorn
from fastapi import APIRouter, FastAPI

from adapters.console import (
    PLATFORM,
    ConsoleConfig,
    ConsoleSender,
    LoginLinks,
    Rights,
    create_app,
    history_router,
    stats_router,
)
from adapters.console._providers import configured, provider_routes
from adapters.console._signin_config import SignInConfig
from adapters.console._try import try_routes
from bot.app._core import Core, open_core, options_from
from bot.app._llm import serving_llm
from bot.app._signin import signin_config
from bot.board import Board
from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import ConfigError
from bot.feed import AuditFeed
from bot.insights import FlowSignals, Insights
from bot.joke import DraftJoke

log = logging.getLogger(__name__)

DEFAULT_PORT = 8080
# where the joke flow's drafting shows in the audit log (the flow audits "llm_error" itself)
JOKE_SIGNALS = FlowSignals(draft_node=DraftJoke.node_id, failure_event="llm_error")


def is_loopback(host: str) -> bool:
    """Whether ``host`` is reachable from this machine only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def sign_in_providers(settings: Settings) -> tuple[str, ...]:
    """The platform sign-ins configured (``discord``, ``slack``).

    Raises:
        ConfigError: a provider is half configured.
    """
    return configured(signin_config(settings))


def console_secret(settings: Settings) -> str:
    """``CONSOLE_SECRET``, else the one generated into ``CONSOLE_SECRET_FILE`` on first start."""
    if settings.console_secret is not None and settings.console_secret.get_secret_value():
        return settings.console_secret.get_secret_value()
    path = Path(settings.console_secret_file)
    with contextlib.suppress(FileNotFoundError):
        if text := path.read_text(encoding="utf-8").strip():
            return text
    value = secrets.token_urlsafe(48)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)  # readable by us only
    with os.fdopen(fd, "w", encoding="utf-8") as out:
        out.write(value + "\n")
    log.info("console: generated the session secret into %s", path)
    return value


def check_binding(settings: Settings, host: str) -> None:
    """Refuse a non-loopback address without a set secret and a sign-in provider."""
    if is_loopback(host):
        return
    missing = []
    if settings.console_secret is None:
        missing.append("CONSOLE_SECRET")
    if not sign_in_providers(settings):
        missing.append("a sign-in provider (Discord or Slack OAuth)")
    if missing:
        raise ConfigError(
            f"the console would listen on {host}, beyond this machine: set "
            f"{' and '.join(missing)}, or keep CONSOLE_HOST=127.0.0.1"
        )


def console_config(settings: Settings) -> ConsoleConfig:
    """The console's plain values from ``settings``."""
    base = settings.console_url or ""
    return ConsoleConfig(
        secret=console_secret(settings),
        base_url=base,
        secure_cookies=base.startswith("https://"),
        read_only=settings.console_read_only,
    )


@dataclass
class Console:
    """A built console: its app, login links and the feed its pages follow."""

    app: FastAPI
    links: LoginLinks
    feed: AuditFeed
    config: ConsoleConfig
    listening: str = ""  # http://host:port once served

    def login_url(self) -> str:
        """A fresh one-time login link for the local admin."""
        return f"{self.config.base_url or self.listening}/login/{self.links.issue()}"


@asynccontextmanager
async def open_console(
    core: Core,
    config: ConsoleConfig,
    *,
    rights: Rights | None = None,
    routers: Sequence[APIRouter] = (),
    signin: SignInConfig | None = None,
) -> AsyncIterator[Console]:
    """Build the console over ``core`` and tail its audit log while the block runs.

    With ``signin`` the configured platforms' sign-in routes are mounted and their
    decision-time re-checks registered on ``rights`` (one HTTP client, closed afterwards).
    """
    feed = AuditFeed(core.store, core.clock)
    links = LoginLinks(core.clock, config.login_ttl_s)
    core.register_sender(PLATFORM, ConsoleSender())
    board = Board(core.store, core.clock, feed)
    rights = rights or Rights()
    providers = configured(signin) if signin is not None else ()
    insights = Insights(core.store, JOKE_SIGNALS)
    built: list[Console] = []  # the redirect URIs need its address, known once it listens
    async with contextlib.AsyncExitStack() as exits:
        sign_ins = None
        if signin is not None and providers:
            http = await exits.enter_async_context(httpx2.AsyncClient(timeout=10.0))
            sign_ins = provider_routes(
                signin,
                rights,
                http,
                core.service.scope,
                now=core.clock.now,
                local_url=lambda: built[0].listening,
            )
        app = create_app(
            config,
            core.service,
            board,
            core.clock,
            links=links,
            rights=rights,
            routers=(
                history_router(insights),
                stats_router(insights),
                try_routes(core.service, core.service),
                *routers,
            ),
            sign_ins=sign_ins,
            providers=providers,
        )
        built.append(Console(app, links, feed, config))
        async with feed.running():
            yield built[0]


def listening_socket(host: str, port: int) -> socket.socket:
    """A socket bound to ``host:port`` and listening (we bind it: a busy port is a clear error)."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(2048)
    except OSError as exc:
        sock.close()
        raise ConfigError(
            f"cannot serve the console on {host}:{port} ({exc}); set CONSOLE_PORT"
        ) from None
    return sock


class _Server(uvicorn.Server):
    """uvicorn without its signal handlers: the CLI owns SIGINT and SIGTERM."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@asynccontextmanager
async def serving_console(
    console: Console, host: str, port: int, *, proxy: str = ""
) -> AsyncIterator[int]:
    """Serve ``console`` on ``host:port`` in this event loop while the block runs; the port."""
    config = uvicorn.Config(
        console.app,
        host=host,
        port=port,
        lifespan="off",
        log_config=None,  # keep jokebot's logging as the CLI set it up
        log_level="warning",
        access_log=False,
        proxy_headers=bool(proxy),
        forwarded_allow_ips=proxy or None,
        timeout_graceful_shutdown=2,
    )
    server = _Server(config)
    sock = listening_socket(host, port)
    task = asyncio.create_task(server.serve(sockets=[sock]), name="console")
    while not server.started:
        if task.done():
            sock.close()
            with contextlib.suppress(SystemExit):  # uvicorn exits when it cannot start
                await task
            raise ConfigError(f"the console on {host}:{port} did not start")
        await asyncio.sleep(0.01)
    bound = int(sock.getsockname()[1])
    console.listening = f"http://{f'[{host}]' if ':' in host else host}:{bound}"
    try:
        yield bound
    finally:
        console.feed.end_followers()  # open event streams end: the shutdown need not wait
        server.should_exit = True
        await task
        sock.close()


class ConsoleSurface:
    """The console as a surface of ``serve``: rebuilt server, same console, on every attempt."""

    name = "console"

    def __init__(
        self, console: Console, host: str, port: int, proxy: str, say: Callable[[str], None]
    ) -> None:
        self._console, self._host, self._port, self._proxy = console, host, port, proxy
        self._say = say

    async def run(self) -> None:
        try:
            async with serving_console(self._console, self._host, self._port, proxy=self._proxy):
                self._say(f"console: sign in as the local admin at {self._console.login_url()}")
                await asyncio.Event().wait()
        except OSError as exc:
            raise ConfigError(
                f"cannot serve the console on {self._host}:{self._port} ({exc})"
            ) from None


async def run_console(
    settings: Settings, *, host: str, port: int, say: Callable[[str], None] = print
) -> int:
    """``jokebot console``: the console and the runtime, no chat platform; prints a login link."""
    check_binding(settings, host)
    clock = SystemClock()
    async with (
        serving_llm(settings) as llm,
        open_core(
            database_url=settings.database_url, llm=llm, clock=clock, options=options_from(settings)
        ) as core,
        open_console(core, console_config(settings), signin=signin_config(settings)) as console,
        core.serving(),
        serving_console(console, host, port, proxy=settings.console_proxy) as bound,
    ):
        say(f"jokebot console on {console.listening} (port {bound})")
        say(f"Sign in as the local admin (once, within 10 minutes): {console.login_url()}")
        await asyncio.Event().wait()
    return 0
