"""Wiring for ``jokebot doctor [--fix]``: every configured area's check, printed one a line."""

from collections.abc import Sequence

from bot.app._llm import make_llm
from bot.app._platforms import secret, slack_config
from bot.clock import SystemClock
from bot.config import Settings
from bot.doctor import (
    Audited,
    LLMCheck,
    StoreCheck,
    config_findings,
    exit_status,
    run_doctor,
)
from bot.errors import ConfigError
from bot.llm import EmbeddedChat
from bot.models import Finding, Level, ScopeConfig
from bot.ports import Check
from bot.store import Store, open_store


async def doctor(settings: Settings, *, fix: bool, not_posted: Sequence[str] = ()) -> int:
    """``jokebot doctor [--fix] [--yes-not-posted ID ...]``: 0 with no error finding, else 1."""
    findings = await diagnose(settings, fix=fix, not_posted=not_posted)
    for finding in findings:
        print(finding.line())
    errors = sum(f.level is Level.ERROR for f in findings)
    warnings = sum(f.level is Level.WARN for f in findings)
    print(f"{errors} error(s), {warnings} warning(s).")
    return exit_status(findings)


async def diagnose(
    settings: Settings, *, fix: bool, not_posted: Sequence[str] = ()
) -> list[Finding]:
    """Every finding of every configured area (after the repairs, with ``fix``)."""
    found = config_findings(settings)
    clock = SystemClock()
    store: Store | None = None
    try:
        store = await open_store(settings.database_url)
    except ConfigError as exc:
        found.append(Finding(Level.ERROR, "store", str(exc), "check DATABASE_URL and the server"))
    llm, description = make_llm(settings)
    try:
        checks: list[Check] = []
        if store is not None:
            checks.append(StoreCheck(store, clock.now, settings.health_stuck_s, not_posted))
        load = llm.load if isinstance(llm, EmbeddedChat) else None
        checks.append(LLMCheck(llm, description, load))
        checks += await _platform_checks(settings, store, clock)
        found += await run_doctor(checks, fix=fix)
    finally:
        await llm.close()
        if store is not None:
            await store.close()
    return found


async def _platform_checks(
    settings: Settings, store: Store | None, clock: SystemClock
) -> list[Check]:
    checks: list[Check] = []
    if settings.discord_token is not None:
        from adapters.discord_adapter import DiscordCheck, use_endpoints

        use_endpoints(settings.discord_api_base, settings.discord_gateway_url)
        scopes: list[ScopeConfig] = []
        if store is not None:
            async with store.read() as tx:
                scopes = await tx.scopes("discord")
        guild = int(settings.discord_guild_id) if settings.discord_guild_id else None
        discord = DiscordCheck(secret(settings.discord_token), scopes, guild)
        checks.append(Audited(discord, store, clock.now) if store is not None else discord)
    # multi-workspace mode: no one token to check (per-workspace checks are not written yet)
    if settings.slack_bot_token is not None and not settings.slack_multi_workspace:
        from adapters.slack_adapter import SlackCheck

        checks.append(SlackCheck(slack_config(settings)))
    return checks
