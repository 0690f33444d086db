"""Wiring for ``jokebot serve``: every configured surface in one process, on one core.

Discord runs when ``DISCORD_TOKEN`` is set; Slack when ``SLACK_BOT_TOKEN`` is set with an app
token (Socket Mode) or a signing secret (HTTP mode on ``SLACK_HTTP_PORT``); the terminal
never; the web console when ``CONSOLE_PORT`` is set. Each surface's first client is built,
and its sender registered, before recovery starts delivering, so effects left in flight go
out at once. A surface that fails is rebuilt
and retried by :func:`bot.supervisor.supervise` while the others keep serving.
"""

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any, NoReturn, Protocol

from bot.app._console import ConsoleSurface, check_binding, console_config, open_console
from bot.app._core import Core, open_core, options_from
from bot.app._llm import serving_llm
from bot.app._ops import ops_server, pruning_duty
from bot.app._platforms import secret, settle_heap, slack_config, slack_extras
from bot.app._signin import signin_config
from bot.clock import SystemClock
from bot.config import Settings
from bot.errors import ConfigError
from bot.ports import ConnectionHook
from bot.supervisor import SurfaceStatus, supervise

__all__ = ["SurfacePlan", "describe", "plan_surfaces", "run_serve"]


@dataclass(frozen=True)
class SurfacePlan:
    """Whether a surface runs in this process, and why (or why not)."""

    name: str
    runs: bool
    why: str


def plan_surfaces(settings: Settings) -> list[SurfacePlan]:
    """Which surfaces ``serve`` starts with these settings, each with its reason."""
    discord = (
        SurfacePlan("discord", True, "DISCORD_TOKEN is set")
        if secret(settings.discord_token)
        else SurfacePlan("discord", False, "set DISCORD_TOKEN to run it")
    )
    if settings.slack_multi_workspace:
        port = settings.slack_http_port
        slack = (
            SurfacePlan(
                "slack", True, f"multi-workspace HTTP mode on port {port} (SLACK_CLIENT_ID)"
            )
            if secret(settings.slack_signing_secret)
            else SurfacePlan("slack", False, "set SLACK_SIGNING_SECRET (multi-workspace mode)")
        )
    elif not secret(settings.slack_bot_token):
        slack = SurfacePlan("slack", False, "set SLACK_BOT_TOKEN to run it")
    elif secret(settings.slack_app_token):
        slack = SurfacePlan("slack", True, "Socket Mode (SLACK_APP_TOKEN is set)")
    elif secret(settings.slack_signing_secret):
        port = settings.slack_http_port
        slack = SurfacePlan("slack", True, f"HTTP mode on port {port} (SLACK_SIGNING_SECRET)")
    else:
        slack = SurfacePlan(
            "slack", False, "set SLACK_APP_TOKEN (Socket Mode) or SLACK_SIGNING_SECRET (HTTP)"
        )
    terminal = SurfacePlan("terminal", False, "never under serve; use `jokebot chat`")
    console = (
        SurfacePlan(
            "console", True, f"on {settings.console_host}:{settings.console_port} (CONSOLE_PORT)"
        )
        if settings.console_port
        else SurfacePlan("console", False, "set CONSOLE_PORT to run it")
    )
    return [discord, slack, terminal, console]


def describe(plans: list[SurfacePlan]) -> list[str]:
    """One start-up line per surface: ``discord: runs (DISCORD_TOKEN is set)``."""
    return [f"{p.name}: {'runs' if p.runs else 'off'} ({p.why})" for p in plans]


class DiscordSurface:
    """The Discord client of ``serve``: a fresh client (and sender) for every attempt.

    ``report`` hears the gateway session's state (READY / RESUMED / disconnected).
    With ``DISCORD_SHARD_COUNT`` > 1, each attempt serves the shards this process leases
    (``bot.app._shards``); their clients and senders come and go with the leases.
    """

    name = "discord"

    def __init__(self, settings: Settings, core: Core, report: ConnectionHook) -> None:
        from adapters.discord_adapter import use_endpoints

        use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
        self._token, self._core, self._report = secret(settings.discord_token), core, report
        self._settings, self._sharded = settings, settings.discord_shard_count > 1
        self._client: Any = None
        if not self._sharded:
            self.prepare()

    def prepare(self) -> None:
        """Build a client and register its sender (replacing the previous one)."""
        from adapters.discord_adapter import build_discord

        self._client, sender = build_discord(self._core.service, on_connection=self._report)
        self._core.register_sender(self.name, sender)

    async def run(self) -> None:
        import discord

        from adapters.discord_adapter import run_discord

        if self._sharded:
            from bot.app._shards import serve_shards, shard_leases

            try:
                leases = shard_leases(self._settings, self._core)
                await serve_shards(self._token, self._core, leases, on_connection=self._report)
            except discord.LoginFailure as exc:
                raise ConfigError(f"Discord refused DISCORD_TOKEN: {exc}") from None
            return
        if self._client is None or self._client.is_closed():
            self.prepare()
        try:
            await run_discord(self._token, self._core.service, client=self._client)
        except discord.LoginFailure as exc:
            raise ConfigError(f"Discord refused DISCORD_TOKEN: {exc}") from None
        finally:
            self._client = None  # a closed client cannot start again


class SlackSurface:
    """The Slack app of ``serve`` in Socket Mode or HTTP mode, rebuilt for every attempt.

    ``report`` hears the socket's state (Socket Mode) or that the listener is bound (HTTP).
    """

    name = "slack"

    def __init__(self, settings: Settings, core: Core, report: ConnectionHook) -> None:
        self._config, self._core, self._report = slack_config(settings), core, report
        self._http = self._config.multi_workspace or not self._config.app_token
        self._port = settings.slack_http_port
        self._app: Any = None
        self.prepare()

    def prepare(self) -> None:
        """Build the Bolt app and register its sender (replacing the previous one)."""
        from adapters.slack_adapter import build_slack

        extras = slack_extras(self._config, self._core)
        self._app, sender = build_slack(self._config, self._core.service, **extras)
        self._core.register_sender(self.name, sender)

    async def run(self) -> None:
        from adapters.slack_adapter import run_http, run_socket_mode

        if self._app is None:
            self.prepare()
        app, self._app = self._app, None
        if self._http:
            await run_http(
                app,
                self._config,
                host="0.0.0.0",  # noqa: S104  # Slack must reach it
                port=self._port,
                on_connection=self._report,
            )
        else:
            await run_socket_mode(app, self._config, on_connection=self._report)


class Surface(Protocol):
    """What ``serve`` supervises."""

    name: str

    async def run(self) -> None: ...


@asynccontextmanager
async def console_surface(
    settings: Settings, core: Core, say: Callable[[str], None]
) -> AsyncIterator[list[Surface]]:
    """The console surface when CONSOLE_PORT is set (its feed runs in the block), else none."""
    if not settings.console_port:
        yield []
        return
    host, port = settings.console_host, settings.console_port
    signin = signin_config(settings)
    async with open_console(core, console_config(settings), signin=signin) as console:
        yield [ConsoleSurface(console, host, port, settings.console_proxy, say)]


SURFACES: dict[str, Callable[[Settings, Core, ConnectionHook], DiscordSurface | SlackSurface]] = {
    "discord": DiscordSurface,
    "slack": SlackSurface,
}


async def run_serve(settings: Settings, *, say: Callable[[str], None] = print) -> int:
    """``jokebot serve``: every configured surface in one process until interrupted."""
    plans = plan_surfaces(settings)
    for line in describe(plans):
        say(line)
    wanted = [p.name for p in plans if p.runs and p.name in SURFACES]
    if not any(p.runs for p in plans):
        raise ConfigError(
            "nothing to serve: set DISCORD_TOKEN, and/or SLACK_BOT_TOKEN with SLACK_APP_TOKEN "
            "or SLACK_SIGNING_SECRET, and/or CONSOLE_PORT"
        )
    if settings.console_port:
        check_binding(settings, settings.console_host)  # before loading a model
    clock = SystemClock()
    async with (
        serving_llm(settings) as llm,
        open_core(
            database_url=settings.database_url, llm=llm, clock=clock, options=options_from(settings)
        ) as core,
    ):
        statuses = [SurfaceStatus(name) for name in wanted]
        platforms: list[Surface] = [SURFACES[s.name](settings, core, s.report) for s in statuses]
        async with console_surface(settings, core, say) as consoles:
            statuses += [SurfaceStatus(c.name) for c in consoles]
            await _serve_surfaces(settings, core, [*platforms, *consoles], statuses, clock)


async def _serve_surfaces(
    settings: Settings,
    core: Core,
    surfaces: list[Surface],
    statuses: list[SurfaceStatus],
    clock: SystemClock,
) -> NoReturn:
    """Supervise every surface until each one stopped for good (a ConfigError)."""
    async with (
        ops_server(settings, core, statuses),  # answers /health/live during recovery too
        core.serving(),
        pruning_duty(settings, core),
        asyncio.TaskGroup() as group,
    ):
        settle_heap()
        for surface, status in zip(surfaces, statuses, strict=True):
            group.create_task(supervise(status, surface.run, clock), name=surface.name)
    # supervise returns only when its surface stopped for good: here, every one did
    raise ConfigError("; ".join(f"{s.name}: {s.detail}" for s in statuses))
