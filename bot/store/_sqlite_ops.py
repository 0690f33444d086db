"""The SQLite side of the operations queries on ``Tx``: what health checks and metrics read."""

import aiosqlite

from bot.store._sqlite_rows import OUTBOX_COLS, effect_from
from bot.store.records import OpsCounts, OutboxRow


class SqliteOpsQueries:
    """Read-only queries for ``/health/ready`` and ``/metrics``; mixed into ``SqliteTx``."""

    _db: aiosqlite.Connection

    async def oldest_open_effect(self) -> OutboxRow | None:
        # the status terms match the outbox_open partial index, which holds open rows only
        rows = list(
            await self._db.execute_fetchall(
                f"SELECT {OUTBOX_COLS} FROM outbox WHERE status IN ('pending', 'in_flight') "  # noqa: S608
                "ORDER BY created_at LIMIT 1"
            )
        )
        return effect_from(rows[0]) if rows else None

    async def ops_counts(self, now: float) -> OpsCounts:
        effects = await self._db.execute_fetchall(
            "SELECT status, COUNT(*) FROM outbox WHERE status != 'done' GROUP BY status"
        )
        waits = await self._db.execute_fetchall(
            "SELECT kind, COUNT(*) FROM waits WHERE status = 'pending' GROUP BY kind"
        )
        leases = list(
            await self._db.execute_fetchall(
                "SELECT COUNT(*) FROM runs WHERE status IN ('running', 'resuming') "
                "AND runner_id IS NOT NULL AND lease_until >= ?",
                (now,),
            )
        )
        return OpsCounts(
            effects={str(r[0]): int(r[1]) for r in effects},
            pending_waits={str(r[0]): int(r[1]) for r in waits},
            leases=int(leases[0][0]) if leases else 0,
        )
