"""Wiring: the only module that knows every concrete class (store, LLM, flow, runtime, adapters)."""

import asyncio
import gc
import logging
import os
import socket
import sys
import zlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field, replace
from typing import Any

from bot.clock import SystemClock
from bot.config import Settings
from bot.llm import EmbeddedChat, LLMChoice, select_llm
from bot.models import JokeRequest, WaitInfo
from bot.ports import LLM, Clock, EffectSender
from bot.runtime import CrashPoints, Runtime
from bot.service import JokeService
from bot.store import Store, WaitStatus, open_store
from flows.joke import build_joke_flow, new_joke_state

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class JokeOptions:
    """The plain values the joke flow and the service need (from Settings, or a test)."""

    max_attempts: int = 5
    review_timeout_s: float = 86400.0
    topic_max_len: int = 100
    joke_max_len: int = 300
    cooldown_s: float = 30.0
    retry_s: float = 60.0
    concurrency: int = 16  # runs drafting at once; a remote LLM serves many in parallel

    @classmethod
    def from_settings(cls, settings: Settings) -> "JokeOptions":
        return cls(
            max_attempts=settings.max_attempts,
            review_timeout_s=settings.review_timeout_s,
            topic_max_len=settings.topic_max_len,
            joke_max_len=settings.joke_max_len,
            cooldown_s=settings.cooldown_s,
        )


@dataclass
class Core:
    """The platform-free heart of a running bot: store, runtime and the service adapters call."""

    store: Store
    runtime: Runtime
    service: "ChatService"
    llm: LLM
    senders: dict[str, EffectSender] = field(default_factory=dict)


class ChatService(JokeService):
    """JokeService plus the queries the terminal adapter needs to resume local runs."""

    def __init__(self, store: Store, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._full_store = store

    async def pending_reviews(self, platform: str, scope: str) -> list[WaitInfo]:
        async with self._full_store.read() as tx:
            waits = await tx.pending_waits(platform, scope)
        return [
            WaitInfo(w.token, w.run_id, w.kind, w.status, w.payload, w.allowed)
            for w in waits
            if w.kind == "review" and w.status == WaitStatus.PENDING
        ]

    async def run_status(self, run_id: str) -> str | None:
        async with self._full_store.read() as tx:
            run = await tx.get_run(run_id)
            if run is None:
                return None
            if await tx.open_effects(run_id):
                return "delivering"  # finished runs still have effects on their way out
        return str(run.status)


def state_factory(options: JokeOptions) -> Callable[[JokeRequest], dict[str, Any]]:
    """Builds the joke flow's initial state from a request (raises BadRequest on a bad topic)."""

    def new_state(request: JokeRequest) -> dict[str, Any]:
        state = new_joke_state(
            request.topic,
            request.origin.requester.display,
            max_attempts=options.max_attempts,
            max_topic_len=options.topic_max_len,
            # seeds derive from the run's state: vary them per request, or every "/joke cats"
            # would get the same sequence of drafts from a deterministic local model
            seed_base=zlib.crc32(request.request_key.encode()) & 0x7FFFFFFF,
        )
        return dict(state)

    return new_state


@asynccontextmanager
async def open_core(
    *,
    database_url: str,
    llm: LLM,
    clock: Clock | None = None,
    options: JokeOptions | None = None,
    runner_id: str | None = None,
    crash: CrashPoints | None = None,
    serve: bool = True,
    poll_s: float = 5.0,
) -> AsyncIterator[Core]:
    """Open the store, build flow + runtime + service, serve in the background, close on exit."""
    options = options or JokeOptions()
    clock = clock or SystemClock()
    store = await open_store(database_url)
    try:
        flow = build_joke_flow(
            llm,
            max_attempts=options.max_attempts,
            review_timeout_s=options.review_timeout_s,
            joke_max_len=options.joke_max_len,
            retry_s=options.retry_s,
        )
        senders: dict[str, EffectSender] = {}
        runtime = Runtime(
            store,
            {"joke": flow},
            senders,
            clock,
            runner_id=runner_id or f"{socket.gethostname()}:{os.getpid()}",
            crash=crash,
            poll_s=poll_s,
            concurrency=options.concurrency,
        )
        service = ChatService(
            store, runtime, store, clock, state_factory(options), cooldown_s=options.cooldown_s
        )
        core = Core(store, runtime, service, llm, senders)
        if not serve:
            yield core
            return
        await runtime.recover()
        task = asyncio.create_task(runtime.serve(), name="runtime")
        try:
            yield core
        finally:
            task.cancel()
            with suppress(asyncio.CancelledError):
                await task
            await runtime.release()
    finally:
        await store.close()


def make_llm(settings: Settings) -> LLMChoice:
    """The configured LLM provider and a one-line description of the choice."""
    key = settings.openai_api_key.get_secret_value() if settings.openai_api_key else None
    return select_llm(
        provider=settings.llm_provider,
        api_key=key,
        base_url=settings.openai_base_url,
        model=settings.openai_model,
        timeout=settings.llm_timeout,
    )


@asynccontextmanager
async def serving_llm(settings: Settings) -> AsyncIterator[LLM]:
    """The configured LLM, loaded up front (a broken model fails at boot), closed at exit."""
    llm, description = make_llm(settings)
    log.info("LLM: %s", description)
    try:
        if isinstance(llm, EmbeddedChat):
            await llm.load()
        yield llm
    finally:
        await llm.close()


async def run_chat(settings: Settings) -> int:
    """``jokebot chat``: the terminal approval loop."""
    import getpass

    from adapters.terminal import ChatApp, LineReader, TerminalSender

    options = replace(JokeOptions.from_settings(settings), cooldown_s=0.0)  # one local user
    sender = TerminalSender(sys.stdout)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        core.senders["terminal"] = sender
        app = ChatApp(
            core.service,
            sender,
            LineReader(sys.stdin),
            sys.stdout,
            user=getpass.getuser(),
            model_label=llm.label,
            tty=sys.stdin.isatty() and sys.stdout.isatty(),
        )
        return await app.run()


def _settle_heap() -> None:
    """Move start-up objects out of the garbage collector's way before serving.

    Full collections then scan only what serving creates; measured on the Slack bench, an
    85-130 ms pause at 110k objects became 28 ms.
    """
    gc.collect()
    gc.freeze()


def _secret(value: Any) -> str:
    return str(value.get_secret_value()) if value is not None else ""


async def run_discord(settings: Settings) -> int:
    """``jokebot discord``: serve Discord until interrupted."""
    from adapters.discord_adapter import build_discord, run_discord as serve_discord, use_endpoints

    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    options = JokeOptions.from_settings(settings)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        client, sender = build_discord(core.service)
        core.senders["discord"] = sender
        _settle_heap()
        await serve_discord(_secret(settings.discord_token), core.service, client=client)
    return 0


async def sync_discord(settings: Settings, guild_id: int | None) -> int:
    """``jokebot discord --sync [--guild ID]``: publish the slash commands, then exit."""
    from adapters.discord_adapter import sync_only, use_endpoints

    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    guild = guild_id or (int(settings.discord_guild_id) if settings.discord_guild_id else None)
    report = await sync_only(_secret(settings.discord_token), guild)
    where = f"guild {guild}" if guild else "all guilds (global commands can take a while)"
    print(f"Synced {', '.join(report.commands)} to {where}.")
    print(f"Invite the bot with: {report.invite_url}")
    return 0


async def print_invite_url(settings: Settings) -> int:
    """``jokebot discord invite-url``: the OAuth2 URL with exactly the scopes and permissions."""
    import discord

    from adapters.discord_adapter import invite_url, use_endpoints

    if settings.discord_token is None:
        print("Set DISCORD_TOKEN to fill in your application id, or replace <APPLICATION_ID>:")
        print(invite_url(0).replace("client_id=0", "client_id=<APPLICATION_ID>"))
        return 0
    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    async with discord.Client(intents=discord.Intents.default()) as client:
        await client.login(_secret(settings.discord_token))  # REST only: no gateway session
        print(invite_url(client.application_id or 0))
    return 0


async def run_slack(settings: Settings, *, http: bool, host: str, port: int) -> int:
    """``jokebot slack [--http --port N]``: serve Slack until interrupted."""
    from adapters.slack_adapter import SlackConfig, build_slack, run_http, run_socket_mode

    config = SlackConfig(
        bot_token=_secret(settings.slack_bot_token),
        mod_channel=settings.slack_mod_channel,
        public_channel=settings.slack_public_channel,
        moderators=settings.slack_moderator_ids,
        moderator_group=settings.slack_moderator_group,
        app_token=_secret(settings.slack_app_token),
        signing_secret=_secret(settings.slack_signing_secret),
        api_base=settings.slack_api_base,
    )
    options = JokeOptions.from_settings(settings)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        slack_app, sender = build_slack(config, core.service)
        core.senders["slack"] = sender
        _settle_heap()
        if http:
            await run_http(slack_app, config, host=host, port=port)
        else:
            await run_socket_mode(slack_app, config)
    return 0


async def init_db(settings: Settings) -> int:
    """``jokebot init-db``: create or migrate the database, print its schema version."""
    store = await open_store(settings.database_url)
    try:
        version = await store.schema_version()
    finally:
        await store.close()
    print(f"Database ready at schema version {version}.")
    return 0
