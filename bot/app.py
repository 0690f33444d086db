"""Wiring: the only module that knows every concrete class (store, LLM, flow, runtime, adapters)."""

import asyncio
import functools
import gc
import logging
import os
import socket
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, replace
from typing import Any

from bot.clock import SystemClock
from bot.config import Settings
from bot.joke import JokeOptions, build_joke_flow, request_state
from bot.llm import EmbeddedChat, LLMChoice, select_llm
from bot.ports import LLM, Clock, EffectSender
from bot.runtime import CrashPoints, Runtime
from bot.service import JokeService
from bot.store import Store, open_store

log = logging.getLogger(__name__)


def options_from(settings: Settings) -> JokeOptions:
    """The options ``Settings`` configures (the rest keep JokeOptions' defaults)."""
    return JokeOptions(
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
    service: JokeService
    llm: LLM

    def register_sender(self, platform: str, sender: EffectSender) -> None:
        """Deliver the effects of ``platform``'s runs through ``sender``."""
        self.runtime.register_sender(platform, sender)


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
        runtime = Runtime(
            store,
            {"joke": build_joke_flow(llm, options)},
            None,
            clock,
            runner_id=runner_id or f"{socket.gethostname()}:{os.getpid()}",
            crash=crash,
            poll_s=poll_s,
            concurrency=options.concurrency,
        )
        service = JokeService(
            runtime,
            store,
            clock,
            functools.partial(request_state, options=options),
            cooldown_s=options.cooldown_s,
        )
        core = Core(store, runtime, service, llm)
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

    options = replace(options_from(settings), cooldown_s=0.0)  # one local user
    sender = TerminalSender(sys.stdout)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        core.register_sender("terminal", sender)
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
    options = options_from(settings)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        client, sender = build_discord(core.service)
        core.register_sender("discord", sender)
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
    options = options_from(settings)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        slack_app, sender = build_slack(config, core.service)
        core.register_sender("slack", sender)
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


async def migrate_store(source: str, target: str) -> int:
    """``jokebot migrate-store SRC DST``: copy a SQLite database into an empty PostgreSQL one."""
    from bot.store.copy import StoreNotEmpty, copy_sqlite_to_postgres

    try:
        counts = await copy_sqlite_to_postgres(source, target)
    except StoreNotEmpty as exc:
        print(f"jokebot: migrate-store: {exc}", file=sys.stderr)
        return 2
    for table, n in counts.items():
        print(f"{table:<8} {n:>9} rows")
    print("Copied; every table has the same row count on both sides. Point DATABASE_URL at it.")
    return 0
