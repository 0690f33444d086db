"""Wiring: the single-surface commands (``chat``, ``discord``, ``slack``) and ``init-db``."""

import gc
import sys
from dataclasses import replace
from typing import TYPE_CHECKING, Any

from bot.app._core import Core, open_core, options_from
from bot.app._llm import serving_llm
from bot.config import Settings
from bot.ports import LLM
from bot.store import open_store

if TYPE_CHECKING:
    from adapters.slack_adapter import SlackConfig
    from adapters.terminal import TerminalSender


async def run_chat(settings: Settings) -> int:
    """``jokebot chat``: the terminal approval loop."""
    from adapters.terminal import TerminalSender

    options = replace(options_from(settings), cooldown_s=0.0, scope_max_active=0)  # one local user
    sender = TerminalSender(sys.stdout)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        core.register_sender("terminal", sender)
        async with core.serving():
            return await _chat(core, sender, llm)


async def _chat(core: Core, sender: "TerminalSender", llm: LLM) -> int:
    import getpass

    from adapters.terminal import ChatApp, LineReader

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


def settle_heap() -> None:
    """Move start-up objects out of the garbage collector's way before serving.

    Full collections then scan only what serving creates; measured on the Slack bench, an
    85-130 ms pause at 110k objects became 28 ms.
    """
    gc.collect()
    gc.freeze()


def secret(value: Any) -> str:
    """A SecretStr's value at the point of use ("" when unset)."""
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
        if settings.discord_shard_count > 1:
            from bot.app._shards import serve_shards, shard_leases

            async with core.serving():
                settle_heap()
                leases = shard_leases(settings, core)
                await serve_shards(secret(settings.discord_token), core, leases)
            return 0
        client, sender = build_discord(core.service)
        core.register_sender("discord", sender)
        async with core.serving():
            settle_heap()
            await serve_discord(secret(settings.discord_token), core.service, client=client)
    return 0


async def sync_discord(settings: Settings, guild_id: int | None) -> int:
    """``jokebot discord --sync [--guild ID]``: publish the slash commands, then exit."""
    from adapters.discord_adapter import sync_only, use_endpoints

    use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
    guild = guild_id or (int(settings.discord_guild_id) if settings.discord_guild_id else None)
    report = await sync_only(secret(settings.discord_token), guild)
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
        await client.login(secret(settings.discord_token))  # REST only: no gateway session
        print(invite_url(client.application_id or 0))
    return 0


async def run_slack(settings: Settings, *, http: bool, host: str, port: int) -> int:
    """``jokebot slack [--http --port N]``: serve Slack until interrupted."""
    from adapters.slack_adapter import build_slack, run_http, run_socket_mode

    config = slack_config(settings)
    options = options_from(settings)
    async with (
        serving_llm(settings) as llm,
        open_core(database_url=settings.database_url, llm=llm, options=options) as core,
    ):
        slack_app, sender = build_slack(config, core.service, **slack_extras(config, core))
        core.register_sender("slack", sender)
        async with core.serving():
            settle_heap()
            if http:
                await run_http(slack_app, config, host=host, port=port)
            else:
                await run_socket_mode(slack_app, config)
    return 0


def slack_extras(config: "SlackConfig", core: Core) -> dict[str, Any]:
    """What ``build_slack`` needs besides the config (multi-workspace mode only).

    The store's installations (every process on the database sees every install) and the clock.
    """
    if not config.multi_workspace:
        return {}
    from bot.store.installations import StoreInstallations

    return {"installs": StoreInstallations(core.store), "clock": core.clock}


def slack_config(settings: Settings) -> "SlackConfig":
    """The plain values the Slack adapter is built from.

    In multi-workspace mode there is no one pair of channels: each workspace has its own
    (``/joke setup``), so ``SLACK_MOD_CHANNEL`` / ``SLACK_PUBLIC_CHANNEL`` are not used.
    """
    from adapters.slack_adapter import SlackConfig

    multi = settings.slack_multi_workspace
    return SlackConfig(
        bot_token="" if multi else secret(settings.slack_bot_token),
        mod_channel="" if multi else settings.slack_mod_channel,
        public_channel="" if multi else settings.slack_public_channel,
        moderators=settings.slack_moderator_ids,
        moderator_group=settings.slack_moderator_group,
        app_token=secret(settings.slack_app_token),
        signing_secret=secret(settings.slack_signing_secret),
        api_base=settings.slack_api_base,
        client_id=settings.slack_client_id.strip() if multi else "",
        client_secret=secret(settings.slack_client_secret) if multi else "",
        redirect_url=settings.slack_oauth_redirect_url.strip(),
    )


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
