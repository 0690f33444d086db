"""The SQLite side of the ``jokebot doctor`` queries and repairs on ``Tx``."""

from typing import Any

from bot.models import ScopeConfig
from bot.store._rows import OUTBOX_COLS, RUN_COLS, SCOPE_COLS, effect_from, run_from, scope_from
from bot.store._sqlite_conn import LoopConnection
from bot.store.records import EffectStatus, OutboxRow, RunRow


class SqliteDoctorQueries:
    """Read queries and compare-and-set repairs for the doctor; mixed into ``SqliteTx``."""

    _db: LoopConnection

    async def _count(self, sql: str, params: tuple[Any, ...]) -> int:
        cursor = await self._db.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def stale_leases(self, now: float, limit: int) -> list[RunRow]:
        rows = await self._db.execute_fetchall(
            f"SELECT {RUN_COLS} FROM runs WHERE status IN ('running', 'resuming') "  # noqa: S608
            "AND runner_id IS NOT NULL AND lease_until < ? ORDER BY lease_until LIMIT ?",
            (now, limit),
        )
        return [run_from(r) for r in rows]

    async def stuck_runs(self, before: float, limit: int) -> list[RunRow]:
        rows = await self._db.execute_fetchall(
            f"SELECT {RUN_COLS} FROM runs WHERE status IN ('running', 'resuming') "  # noqa: S608
            "AND updated_at < ? ORDER BY updated_at LIMIT ?",
            (before, limit),
        )
        return [run_from(r) for r in rows]

    async def release_lease(self, run_id: str, runner_id: str, lease_until: float) -> bool:
        changed = await self._count(
            "UPDATE runs SET runner_id=NULL, lease_until=NULL WHERE run_id=? AND runner_id=? "
            "AND lease_until=? AND status IN ('running', 'resuming')",
            (run_id, runner_id, lease_until),
        )
        return changed == 1

    async def effects_with_status(self, status: EffectStatus, limit: int) -> list[OutboxRow]:
        rows = await self._db.execute_fetchall(
            f"SELECT {OUTBOX_COLS} FROM outbox WHERE status = ? "  # noqa: S608
            "ORDER BY created_at, effect_id LIMIT ?",
            (str(status), limit),
        )
        return [effect_from(r) for r in rows]

    async def retry_effect(self, effect_id: str, expect: EffectStatus, now: float) -> bool:
        changed = await self._count(
            "UPDATE outbox SET status='pending', next_attempt_at=?, claimed_by=NULL, "
            "updated_at=? WHERE effect_id=? AND status=?",
            (now, now, effect_id, str(expect)),
        )
        return changed == 1

    async def scopes(self, platform: str) -> list[ScopeConfig]:
        rows = await self._db.execute_fetchall(
            f"SELECT {SCOPE_COLS} FROM scopes WHERE platform = ? ORDER BY scope",  # noqa: S608
            (platform,),
        )
        return [scope_from(r) for r in rows]
