"""PostgreSQL statements beyond runs and outbox: queues, operations, doctor and duties."""

from bot.models import ScopeConfig, Surface
from bot.store import _cards_sql as cards_sql
from bot.store._pg_outbox import PgStatements
from bot.store._rows import (
    OUTBOX_COLS,
    RUN_COLS,
    SCOPE_COLS,
    effect_from,
    run_from,
    scope_from,
    wait_from,
)
from bot.store.records import DutyRow, EffectStatus, OpsCounts, OutboxRow, RunRow, WaitRow


class PgQueues(PgStatements):
    """Routes of a scope to review surfaces, and single-use link codes."""

    async def add_route(self, platform: str, scope: str, surface: Surface, now: float) -> bool:
        return (
            await self._changed(
                "INSERT INTO routes (platform, scope, surface_platform, surface_channel, added_at) "
                "VALUES (%s, %s, %s, %s, %s) ON CONFLICT DO NOTHING",
                (platform, scope, surface.platform, surface.channel, now),
            )
            == 1
        )

    async def remove_route(self, platform: str, scope: str, surface: Surface) -> bool:
        return (
            await self._changed(
                "DELETE FROM routes WHERE platform = %s AND scope = %s AND surface_platform = %s "
                "AND surface_channel = %s",
                (platform, scope, surface.platform, surface.channel),
            )
            == 1
        )

    async def routes(self, platform: str, scope: str) -> list[Surface]:
        rows = await self._all(
            "SELECT surface_platform, surface_channel FROM routes WHERE platform = %s "
            "AND scope = %s ORDER BY added_at, surface_platform, surface_channel",
            (platform, scope),
        )
        return [Surface(str(r[0]), str(r[1])) for r in rows]

    async def add_link_code(self, code: str, platform: str, scope: str, expires_at: float) -> None:
        await self._send(
            "INSERT INTO link_codes (code, platform, scope, expires_at) VALUES (%s, %s, %s, %s)",
            (code, platform, scope, expires_at),
        )

    async def take_link_code(self, code: str, now: float) -> tuple[str, str] | None:
        # DELETE ... RETURNING: of two processes using one code at once, one gets the row
        row = await self._one(
            "DELETE FROM link_codes WHERE code = %s RETURNING platform, scope, expires_at", (code,)
        )
        await self._send("DELETE FROM link_codes WHERE expires_at <= %s", (now,))
        if row is None or float(row[2]) <= now:
            return None
        return str(row[0]), str(row[1])


class PgOps(PgStatements):
    """Queries for the boot card checks, ``/health/ready``, ``/metrics`` and pruning."""

    async def pending_reviews(self, limit: int) -> list[WaitRow]:
        return [
            wait_from(r) for r in await self._all(cards_sql.pg(cards_sql.PENDING_REVIEWS), (limit,))
        ]

    async def closed_reviews_to_update(self, limit: int) -> list[WaitRow]:
        rows = await self._all(cards_sql.pg(cards_sql.CLOSED_REVIEWS_TO_UPDATE), (limit,))
        return [wait_from(r) for r in rows]

    async def card_updates(self, token: str) -> list[OutboxRow]:
        return [
            effect_from(r) for r in await self._all(cards_sql.pg(cards_sql.CARD_UPDATES), (token,))
        ]

    async def oldest_open_effect(self) -> OutboxRow | None:
        row = await self._one(
            f"SELECT {OUTBOX_COLS} FROM outbox WHERE status IN ('pending', 'in_flight') "  # noqa: S608
            "ORDER BY created_at LIMIT 1"
        )
        return None if row is None else effect_from(row)

    async def ops_counts(self, now: float) -> OpsCounts:
        effects = await self._all(
            "SELECT status, COUNT(*) FROM outbox WHERE status != 'done' GROUP BY status"
        )
        waits = await self._all(
            "SELECT kind, COUNT(*) FROM waits WHERE status = 'pending' GROUP BY kind"
        )
        leases = await self._one(
            "SELECT COUNT(*) FROM runs WHERE status IN ('running', 'resuming') "
            "AND runner_id IS NOT NULL AND lease_until >= %s",
            (now,),
        )
        queued = await self._one("SELECT COUNT(*) FROM requests WHERE state = 'queued'")
        return OpsCounts(
            effects={str(r[0]): int(r[1]) for r in effects},
            pending_waits={str(r[0]): int(r[1]) for r in waits},
            leases=int(leases[0]) if leases else 0,
            queued=int(queued[0]) if queued else 0,
        )

    async def prune_runs(self, before: float, limit: int) -> int:
        rows = await self._all(
            "SELECT run_id FROM runs r WHERE status IN ('finished', 'failed') AND updated_at < %s "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.run_id = r.run_id "
            "AND o.status IN ('pending', 'in_flight')) ORDER BY updated_at LIMIT %s "
            "FOR UPDATE SKIP LOCKED",
            (before, limit),
        )
        ids = [str(r[0]) for r in rows]
        if not ids:
            return 0
        for sql in (
            "DELETE FROM inbox WHERE token IN (SELECT token FROM waits WHERE run_id = ANY(%s))",
            "DELETE FROM waits WHERE run_id = ANY(%s)",
            "DELETE FROM audit WHERE run_id = ANY(%s)",
            "DELETE FROM requests WHERE run_id = ANY(%s)",
            "DELETE FROM outbox WHERE run_id = ANY(%s)",
            "DELETE FROM runs WHERE run_id = ANY(%s)",
        ):
            await self._send(sql, (ids,))  # queued: sent with the COMMIT
        return len(ids)


class PgDoctor(PgStatements):
    """Read queries and compare-and-set repairs for ``jokebot doctor``."""

    async def stale_leases(self, now: float, limit: int) -> list[RunRow]:
        rows = await self._all(
            f"SELECT {RUN_COLS} FROM runs WHERE status IN ('running', 'resuming') "  # noqa: S608
            "AND runner_id IS NOT NULL AND lease_until < %s ORDER BY lease_until LIMIT %s",
            (now, limit),
        )
        return [run_from(r) for r in rows]

    async def stuck_runs(self, before: float, limit: int) -> list[RunRow]:
        rows = await self._all(
            f"SELECT {RUN_COLS} FROM runs WHERE status IN ('running', 'resuming') "  # noqa: S608
            "AND updated_at < %s ORDER BY updated_at LIMIT %s",
            (before, limit),
        )
        return [run_from(r) for r in rows]

    async def release_lease(self, run_id: str, runner_id: str, lease_until: float) -> bool:
        changed = await self._changed(
            "UPDATE runs SET runner_id=NULL, lease_until=NULL WHERE run_id=%s AND runner_id=%s "
            "AND lease_until=%s AND status IN ('running', 'resuming')",
            (run_id, runner_id, lease_until),
        )
        return changed == 1

    async def effects_with_status(self, status: EffectStatus, limit: int) -> list[OutboxRow]:
        rows = await self._all(
            f"SELECT {OUTBOX_COLS} FROM outbox WHERE status = %s "  # noqa: S608
            "ORDER BY created_at, effect_id LIMIT %s",
            (str(status), limit),
        )
        return [effect_from(r) for r in rows]

    async def retry_effect(self, effect_id: str, expect: EffectStatus, now: float) -> bool:
        changed = await self._changed(
            "UPDATE outbox SET status='pending', next_attempt_at=%s, claimed_by=NULL, "
            "updated_at=%s WHERE effect_id=%s AND status=%s",
            (now, now, effect_id, str(expect)),
        )
        return changed == 1

    async def scopes(self, platform: str) -> list[ScopeConfig]:
        rows = await self._all(
            f"SELECT {SCOPE_COLS} FROM scopes WHERE platform = %s ORDER BY scope",  # noqa: S608
            (platform,),
        )
        return [scope_from(r) for r in rows]


class PgDuties(PgStatements):
    """Singleton duty leases: an upsert whose update is the compare-and-set.

    ``INSERT ... ON CONFLICT DO UPDATE ... WHERE`` locks the existing row and checks the WHERE
    on its latest committed version, so of two racing claims exactly one changes the row.
    """

    async def claim_duty(self, name: str, holder: str, now: float, until: float) -> bool:
        changed = await self._changed(
            "INSERT INTO duties (name, holder, lease_until) VALUES (%s, %s, %s) "
            "ON CONFLICT (name) DO UPDATE SET holder = EXCLUDED.holder, "
            "lease_until = EXCLUDED.lease_until "
            "WHERE duties.holder = EXCLUDED.holder OR duties.lease_until < %s",
            (name, holder, until, now),
        )
        return changed == 1

    async def release_duty(self, name: str, holder: str) -> bool:
        changed = await self._changed(
            "DELETE FROM duties WHERE name = %s AND holder = %s", (name, holder)
        )
        return changed == 1

    async def duty(self, name: str) -> DutyRow | None:
        row = await self._one(
            "SELECT name, holder, lease_until FROM duties WHERE name = %s", (name,)
        )
        return None if row is None else DutyRow(str(row[0]), str(row[1]), float(row[2]))
