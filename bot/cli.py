"""The ``jokebot`` command: reads Settings once and hands plain values to the wiring."""

import argparse
import asyncio
import logging
import signal
import sys
from collections.abc import Sequence

from bot import app, logs
from bot.config import Settings, load_settings, require_discord, require_slack
from bot.errors import ConfigError

EXIT_CONFIG = 2
EXIT_TERMINATED = 128 + signal.SIGTERM


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jokebot", description="A joke bot with a human in the loop."
    )
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("serve", help="run every configured surface (Discord, Slack) in one process")
    sub.add_parser("chat", help="the approval loop in this terminal (no platform needed)")
    console = sub.add_parser("console", help="the web console alone; prints a login link")
    console.add_argument("--host", help="address to listen on (default CONSOLE_HOST)")
    console.add_argument("--port", type=int, help="port (default CONSOLE_PORT, else 8080)")
    discord = sub.add_parser("discord", help="run the Discord bot")
    discord.add_argument("action", nargs="?", choices=["run", "invite-url"], default="run")
    discord.add_argument("--sync", action="store_true", help="sync slash commands, then exit")
    discord.add_argument("--guild", type=int, help="with --sync: sync to this guild only")
    slack = sub.add_parser("slack", help="run the Slack bot (Socket Mode unless --http)")
    slack.add_argument("--http", action="store_true", help="HTTP mode (needs a signing secret)")
    slack.add_argument("--port", type=int, default=3000, help="HTTP mode port (default 3000)")
    slack.add_argument("--host", default="0.0.0.0", help="HTTP mode address")  # noqa: S104
    check = sub.add_parser("check-config", help="validate the settings and exit")
    check.add_argument("--platform", choices=["discord", "slack", "slack-http"])
    sub.add_parser("init-db", help="create or migrate the database and exit")
    doctor = sub.add_parser("doctor", help="check config, tokens, permissions, store and LLM")
    doctor.add_argument("--fix", action="store_true", help="do the safe repairs first")
    doctor.add_argument(
        "--yes-not-posted",
        metavar="EFFECT_ID",
        nargs="+",
        default=[],
        help="with --fix: retry these uncertain effects (you checked they were not posted)",
    )
    health = sub.add_parser("health", help="ask a running `jokebot serve` whether it is ready")
    health.add_argument("--url", help="readiness URL (default: from HEALTH_HOST / HEALTH_PORT)")
    backup = sub.add_parser("backup", help="copy the SQLite database (safe while the bot runs)")
    backup.add_argument("path", help="the backup file to write")
    backup.add_argument("--force", action="store_true", help="overwrite an existing file")
    restore = sub.add_parser("restore", help="replace the SQLite database by a backup")
    restore.add_argument("path", help="the backup file to restore")
    restore.add_argument("--force", action="store_true", help="replace an old .before-restore")
    migrate = sub.add_parser(
        "migrate-store", help="copy a SQLite database into an empty PostgreSQL one, then exit"
    )
    migrate.add_argument("source", metavar="SRC", help="sqlite:///path/to/jokebot.db")
    migrate.add_argument("target", metavar="DST", help="postgresql://user@host:5432/dbname")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the ``jokebot`` console script; returns the exit status."""
    args = _parser().parse_args(argv)
    try:
        settings = load_settings()
        level = settings.log_level
        if args.command == "chat" and "log_level" not in settings.model_fields_set:
            level = "WARNING"  # the chat screen is the user interface; keep logs out of it
        handler = logs.handler(settings.log_format, settings.secret_values())
        logging.basicConfig(level=level, handlers=[handler])
        return asyncio.run(_until_terminated(args, settings))
    except ConfigError as exc:
        print(f"jokebot: configuration error: {exc}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        print("\nInterrupted; pending drafts are kept.", file=sys.stderr)
        return 130


async def _until_terminated(args: argparse.Namespace, settings: Settings) -> int:
    """Run the command; SIGTERM (systemd, docker stop, kill) unwinds it like Ctrl-C does.

    Unwinding closes the store and releases this process's leases, so a restart picks
    interrupted work up at once instead of waiting for the leases to expire.
    """
    task = asyncio.current_task()
    assert task is not None  # noqa: S101  # asyncio.run always runs us in a task
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    try:
        return await _dispatch(args, settings)
    except asyncio.CancelledError:
        print("\nStopped (SIGTERM); pending drafts are kept.", file=sys.stderr)
        return EXIT_TERMINATED


async def _dispatch(args: argparse.Namespace, settings: Settings) -> int:
    if args.command == "serve":
        return await app.run_serve(settings)
    if args.command == "chat":
        return await app.run_chat(settings)
    if args.command == "console":
        host = args.host or settings.console_host
        port = args.port if args.port is not None else settings.console_port or app.CONSOLE_PORT
        return await app.run_console(settings, host=host, port=port)
    if args.command == "discord":
        if args.action == "invite-url":
            return await app.print_invite_url(settings)
        require_discord(settings)
        if args.sync:
            return await app.sync_discord(settings, args.guild)
        return await app.run_discord(settings)
    if args.command == "slack":
        require_slack(settings, http=args.http)
        return await app.run_slack(settings, http=args.http, host=args.host, port=args.port)
    if args.command == "init-db":
        return await app.init_db(settings)
    if args.command == "doctor":
        if args.yes_not_posted and not args.fix:
            raise ConfigError("--yes-not-posted needs --fix")
        return await app.doctor(settings, fix=args.fix, not_posted=args.yes_not_posted)
    if args.command == "health":
        return await app.check_health(settings, args.url)
    if args.command == "backup":
        return await app.backup_db(settings, args.path, force=args.force)
    if args.command == "restore":
        return await app.restore_db(settings, args.path, force=args.force)
    if args.command == "migrate-store":
        return await app.migrate_store(args.source, args.target)
    return _check_config(settings, args.platform)


def _check_config(settings: Settings, platform: str | None) -> int:
    if platform == "discord":
        require_discord(settings)
    elif platform in {"slack", "slack-http"}:
        require_slack(settings, http=platform == "slack-http")
    _, description = app.make_llm(settings)
    print(f"Configuration OK. LLM: {description}")
    return 0
