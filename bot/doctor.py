"""``jokebot doctor``: findings, the platform-free checks (config, store, LLM), running them.

Each area is a :class:`bot.ports.Check`: ``check()`` reports one :class:`Finding` per
problem (with the exact fix) or one ``ok``; ``fix()`` does the area's safe repairs. The
platforms' checks live in their adapters; the wiring (``bot/app/_doctor.py``) builds them.
"""

import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass

from bot.config import Settings
from bot.errors import LLMError
from bot.models import Finding, Level
from bot.ports import LLM, ChatMessage, Check
from bot.store import AuditRow, EffectStatus, OutboxRow, Store
from bot.store.migrations import LATEST

__all__ = [
    "Audited",
    "Check",
    "Finding",
    "LLMCheck",
    "Level",
    "StoreCheck",
    "config_findings",
    "exit_status",
    "run_doctor",
]

ACTOR = "system:doctor"
LIMIT = 100  # rows listed per kind of problem
_LLM_FIXES = {
    "auth": "set OPENAI_API_KEY to a valid key",
    "unknown_model": "set OPENAI_MODEL to a model the endpoint serves",
    "unreachable": "check OPENAI_BASE_URL (it usually ends in /v1) and the network",
    "timeout": "raise LLM_TIMEOUT or check the endpoint's load",
    "rate_limited": "wait, or raise the account's quota",
}


def config_findings(settings: Settings) -> list[Finding]:
    """What the settings say about each surface (a broken value already failed to load)."""
    found: list[Finding] = []
    slack_token = settings.slack_bot_token is not None
    if slack_token and not (settings.slack_app_token or settings.slack_signing_secret):
        found.append(
            Finding(
                Level.ERROR,
                "config",
                "SLACK_BOT_TOKEN is set but neither SLACK_APP_TOKEN nor SLACK_SIGNING_SECRET",
                "set SLACK_APP_TOKEN (Socket Mode, xapp-…) or SLACK_SIGNING_SECRET (HTTP mode)",
            )
        )
    for name, value in (
        ("SLACK_MOD_CHANNEL", settings.slack_mod_channel),
        ("SLACK_PUBLIC_CHANNEL", settings.slack_public_channel),
    ):
        if slack_token and not value:
            fix = f"set {name} to a channel id (channel details → About → Channel ID)"
            found.append(Finding(Level.ERROR, "config", f"{name} is not set", fix))
    surfaces = [n for n, on in (("Discord", settings.discord_token), ("Slack", slack_token)) if on]
    if not surfaces:
        fix = "set DISCORD_TOKEN and/or SLACK_BOT_TOKEN (see .env.example)"
        found.append(Finding(Level.WARN, "config", "no platform configured; only chat", fix))
    elif not found:
        found.append(Finding(Level.OK, "config", f"surfaces: {', '.join(surfaces)}"))
    return found


@dataclass
class StoreCheck:
    """Schema, stale leases, stuck runs and effects, and ``uncertain`` / ``failed`` effects.

    ``not_posted``: ids of uncertain effects the operator confirmed were not posted; only
    those are retried by ``fix()``.
    """

    store: Store
    now: Callable[[], float]
    stuck_s: float = 600.0
    not_posted: Sequence[str] = ()
    area: str = "store"

    async def check(self) -> list[Finding]:
        now = self.now()
        found = [self._schema(await self.store.schema_version())]
        async with self.store.read() as tx:
            stale = await tx.stale_leases(now, LIMIT)
            stuck = await tx.stuck_runs(now - self.stuck_s, LIMIT)
            oldest = await tx.oldest_open_effect()
            uncertain = await tx.effects_with_status(EffectStatus.UNCERTAIN, LIMIT)
            failed = await tx.effects_with_status(EffectStatus.FAILED, LIMIT)
        release = "jokebot doctor --fix releases it (a running bot also takes it over)"
        for run in stale:
            ago = now - (run.lease_until or now)
            msg = f"run {run.run_id}: the lease of {run.runner_id} expired {ago:.0f} s ago"
            found.append(Finding(Level.WARN, self.area, msg, release))
        leased = {run.run_id for run in stale}
        for run in (r for r in stuck if r.run_id not in leased):
            msg = f"run {run.run_id} is runnable but untouched for {now - run.updated_at:.0f} s"
            fix = "start the bot (jokebot serve); if it stays, look for this run id in the logs"
            found.append(Finding(Level.WARN, self.area, msg, fix))
        if oldest is not None and now - oldest.created_at > self.stuck_s:
            age = now - oldest.created_at
            msg = f"effect {oldest.effect_id} ({oldest.kind}) open for {age:.0f} s"
            fix = "start the bot; if it stays, the platform refuses it: see last_error in the logs"
            found.append(Finding(Level.WARN, self.area, msg, fix))
        found += [_uncertain(e) for e in uncertain] + [_failed(e) for e in failed]
        if len(found) == 1 and found[0].level is Level.OK:
            return [Finding(Level.OK, self.area, f"{found[0].message}; no stuck work")]
        return found

    def _schema(self, version: int) -> Finding:
        if version > LATEST:
            msg = f"schema v{version} is newer than this jokebot (v{LATEST})"
            return Finding(Level.ERROR, self.area, msg, "upgrade jokebot, or restore a backup")
        if version < LATEST:
            return Finding(Level.ERROR, self.area, f"schema v{version}", "run jokebot init-db")
        return Finding(Level.OK, self.area, f"schema v{version} (latest)")

    async def fix(self) -> list[Finding]:
        now, done = self.now(), []
        async with self.store.transaction() as tx:
            audits: list[AuditRow] = []
            for run in await tx.stale_leases(now, LIMIT):
                runner, until = run.runner_id or "", run.lease_until or 0.0
                if await tx.release_lease(run.run_id, runner, until):
                    data = {"runner": run.runner_id, "lease_until": run.lease_until}
                    audits.append(AuditRow(run.run_id, now, ACTOR, "doctor.lease_released", data))
                    msg = f"released run {run.run_id}'s expired lease ({run.runner_id})"
                    done.append(Finding(Level.OK, self.area, msg))
            for effect in await tx.effects_with_status(EffectStatus.FAILED, LIMIT):
                if await tx.retry_effect(effect.effect_id, EffectStatus.FAILED, now):
                    audits.append(_retried(effect, now, confirmed=False))
                    done.append(Finding(Level.OK, self.area, f"retrying {effect.effect_id}"))
            for effect_id in self.not_posted:
                if await tx.retry_effect(effect_id, EffectStatus.UNCERTAIN, now):
                    row = await tx.get_effect(effect_id)
                    assert row is not None  # noqa: S101  # just updated in this transaction
                    audits.append(_retried(row, now, confirmed=True))
                    msg = f"retrying {effect_id} (confirmed not posted)"
                    done.append(Finding(Level.OK, self.area, msg))
                else:
                    msg = f"{effect_id} is not an uncertain effect; left alone"
                    done.append(Finding(Level.WARN, self.area, msg, "check the id"))
            await tx.add_audit(audits)
        return done


def _retried(effect: OutboxRow, now: float, *, confirmed: bool) -> AuditRow:
    data = {"effect_id": effect.effect_id, "kind": effect.kind, "confirmed_not_posted": confirmed}
    return AuditRow(effect.run_id, now, ACTOR, "doctor.effect_retried", data)


def _uncertain(effect: OutboxRow) -> Finding:
    msg = f"effect {effect.effect_id} ({effect.kind}) is uncertain: {effect.last_error or '?'}"
    fix = (
        "look whether it was posted; only if it was NOT: "
        f"jokebot doctor --fix --yes-not-posted {effect.effect_id}"
    )
    return Finding(Level.WARN, "store", msg, fix)


def _failed(effect: OutboxRow) -> Finding:
    msg = f"effect {effect.effect_id} ({effect.kind}) failed: {effect.last_error or '?'}"
    return Finding(Level.ERROR, "store", msg, "fix the cause, then jokebot doctor --fix retries it")


@dataclass
class LLMCheck:
    """One tiny completion through the configured model."""

    llm: LLM
    description: str
    load: Callable[[], Awaitable[None]] | None = None  # the embedded model's loading
    area: str = "llm"

    async def check(self) -> list[Finding]:
        started = time.perf_counter()
        try:
            if self.load is not None:
                await self.load()
            await self.llm.complete([ChatMessage("user", "Reply with OK.")], max_tokens=5)
        except LLMError as exc:
            fix = _LLM_FIXES.get(exc.kind, "see the message; LLM_PROVIDER=embedded needs no server")
            return [Finding(Level.ERROR, self.area, f"{self.description}: {exc}", fix)]
        seconds = time.perf_counter() - started
        return [Finding(Level.OK, self.area, f"{self.description}: answered in {seconds:.2f} s")]

    async def fix(self) -> list[Finding]:
        return []


@dataclass
class Audited:
    """A check whose repairs are written to the audit log (run id "": no run's own)."""

    inner: Check
    store: Store
    now: Callable[[], float]
    area: str = ""

    def __post_init__(self) -> None:
        self.area = self.area or self.inner.area

    async def check(self) -> list[Finding]:
        return await self.inner.check()

    async def fix(self) -> list[Finding]:
        done = await self.inner.fix()
        now = self.now()
        rows = [
            AuditRow("", now, ACTOR, "doctor.repair", {"area": f.area, "message": f.message})
            for f in done
            if f.level is Level.OK
        ]
        if rows:
            async with self.store.transaction() as tx:
                await tx.add_audit(rows)
        return done


async def run_doctor(checks: Sequence[Check], *, fix: bool) -> list[Finding]:
    """Every check (after its repairs, with ``fix``); a check that raises is one error."""
    found: list[Finding] = []
    for check in checks:
        try:
            found += await check.fix() if fix else []
            found += await check.check()
        except Exception as exc:  # a broken check must not hide the others' findings
            msg = f"the check itself failed: {type(exc).__name__}: {exc}"
            found.append(Finding(Level.ERROR, check.area, msg))
    return found


def exit_status(findings: Sequence[Finding]) -> int:
    """0 when no finding is an error, 1 otherwise."""
    return 1 if any(f.level is Level.ERROR for f in findings) else 0
