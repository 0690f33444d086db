"""SQLite side of the ops queries on ``Tx``: card checks, health, metrics, pruning, duties."""

import json

from bot.store import _cards_sql as cards_sql
from bot.store._rows import OUTBOX_COLS, effect_from, wait_from
from bot.store._sqlite_conn import LoopConnection
from bot.store.records import DutyRow, OpsCounts, OutboxRow, WaitRow


class SqliteOpsQueries:
    """Queries for ``/health/ready``, ``/metrics``, pruning and duties; mixed into ``SqliteTx``."""

    _db: LoopConnection

    async def pending_reviews(self, limit: int) -> list[WaitRow]:
        rows = await self._db.execute_fetchall(cards_sql.PENDING_REVIEWS, (limit,))
        return [wait_from(r) for r in rows]

    async def closed_reviews_to_update(self, limit: int) -> list[WaitRow]:
        rows = await self._db.execute_fetchall(cards_sql.CLOSED_REVIEWS_TO_UPDATE, (limit,))
        return [wait_from(r) for r in rows]

    async def card_updates(self, token: str) -> list[OutboxRow]:
        rows = await self._db.execute_fetchall(cards_sql.CARD_UPDATES, (token,))
        return [effect_from(r) for r in rows]

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
        queued = list(
            await self._db.execute_fetchall("SELECT COUNT(*) FROM requests WHERE state = 'queued'")
        )
        return OpsCounts(
            effects={str(r[0]): int(r[1]) for r in effects},
            pending_waits={str(r[0]): int(r[1]) for r in waits},
            leases=int(leases[0][0]) if leases else 0,
            queued=int(queued[0][0]),
        )

    async def prune_runs(self, before: float, limit: int) -> int:
        rows = await self._db.execute_fetchall(
            "SELECT run_id FROM runs r WHERE status IN ('finished', 'failed') AND updated_at < ? "
            "AND NOT EXISTS (SELECT 1 FROM outbox o WHERE o.run_id = r.run_id "
            "AND o.status IN ('pending', 'in_flight')) ORDER BY updated_at LIMIT ?",
            (before, limit),
        )
        ids = [str(r[0]) for r in rows]
        if not ids:
            return 0
        batch = (json.dumps(ids),)  # the ids as one JSON array parameter (json_each)
        for sql in (
            # inbox has no index on token: one scan per batch, not per run
            "DELETE FROM inbox WHERE token IN (SELECT token FROM waits "
            "WHERE run_id IN (SELECT value FROM json_each(?)))",
            "DELETE FROM waits WHERE run_id IN (SELECT value FROM json_each(?))",
            "DELETE FROM audit WHERE run_id IN (SELECT value FROM json_each(?))",
            "DELETE FROM requests WHERE run_id IN (SELECT value FROM json_each(?))",
        ):
            await self._db.execute(sql, batch)
        # effect ids are run_id:seq:n[:alert]: a primary-key range per run, no outbox scan
        await self._db.executemany(
            "DELETE FROM outbox WHERE effect_id > ? AND effect_id < ?",
            [(f"{run_id}:", f"{run_id};") for run_id in ids],
        )
        await self._db.execute(
            "DELETE FROM runs WHERE run_id IN (SELECT value FROM json_each(?))", batch
        )
        return len(ids)

    async def claim_duty(self, name: str, holder: str, now: float, until: float) -> bool:
        cursor = await self._db.execute(
            "INSERT INTO duties (name, holder, lease_until) VALUES (?, ?, ?) "
            "ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, "
            "lease_until = excluded.lease_until "
            "WHERE duties.holder = excluded.holder OR duties.lease_until < ?",
            (name, holder, until, now),
        )
        changed = cursor.rowcount
        await cursor.close()
        return changed == 1

    async def release_duty(self, name: str, holder: str) -> bool:
        cursor = await self._db.execute(
            "DELETE FROM duties WHERE name = ? AND holder = ?", (name, holder)
        )
        changed = cursor.rowcount
        await cursor.close()
        return changed == 1

    async def duty(self, name: str) -> DutyRow | None:
        rows = list(
            await self._db.execute_fetchall(
                "SELECT name, holder, lease_until FROM duties WHERE name = ?", (name,)
            )
        )
        return DutyRow(str(rows[0][0]), str(rows[0][1]), float(rows[0][2])) if rows else None
