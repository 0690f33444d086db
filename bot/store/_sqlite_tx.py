"""The SQLite implementation of ``Tx``: one method per statement, rows mapped to records."""

import json
from collections.abc import Sequence
from typing import Any

from bot.models import ScopeConfig, Surface
from bot.store._installs_sql import InstallQueries
from bot.store._requests_sql import RequestQueries
from bot.store._rows import (
    HEAD,
    OUTBOX_COLS,
    RUN_COLS,
    SCOPE_COLS,
    WAIT_COLS,
    dumps,
    effect_from,
    effect_params,
    run_from,
    run_params,
    scope_from,
    scope_params,
    wait_from,
    wait_params,
)
from bot.store._sqlite_board import SqliteBoardQueries, SqliteInsights
from bot.store._sqlite_conn import LoopConnection
from bot.store._sqlite_doctor import SqliteDoctorQueries
from bot.store._sqlite_ops import SqliteOpsQueries
from bot.store.records import AuditRow, InboxRow, OutboxRow, RunRow, WaitRow


class SqliteTx(
    SqliteOpsQueries,
    SqliteDoctorQueries,
    SqliteBoardQueries,
    SqliteInsights,
    RequestQueries,
    InstallQueries,
):
    """Statements of one SQLite transaction (the caller holds BEGIN ... COMMIT)."""

    def __init__(self, db: LoopConnection) -> None:
        self._db = db
        self.audited = False  # audit rows were added: the store rings its bell after COMMIT

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return list(await self._db.execute_fetchall(sql, params))

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        return await self._changed(sql, params)

    async def serialize(self, key: str) -> None:
        return None  # BEGIN IMMEDIATE: one writer at a time already

    async def _one(self, sql: str, params: Sequence[Any]) -> Any:
        rows = list(await self._db.execute_fetchall(sql, params))
        return rows[0] if rows else None

    async def _changed(self, sql: str, params: Sequence[Any]) -> int:
        cursor = await self._db.execute(sql, params)
        count = cursor.rowcount
        await cursor.close()
        return count

    async def insert_run(self, run: RunRow) -> bool:
        return (
            await self._changed(
                f"INSERT OR IGNORE INTO runs ({RUN_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
                run_params(run),
            )
            == 1
        )

    async def get_run(self, run_id: str) -> RunRow | None:
        row = await self._one(f"SELECT {RUN_COLS} FROM runs WHERE run_id = ?", (run_id,))  # noqa: S608
        return None if row is None else run_from(row)

    async def save_run(self, run: RunRow, *, expect_seq: int, expect_runner: str | None) -> bool:
        sql = (
            "UPDATE runs SET status=?, cursor=?, seq=?, checkpoint_json=?, decision_json=?, "
            "wait_token=?, runner_id=?, lease_until=?, updated_at=?, error=? "
            "WHERE run_id=? AND seq=?"
        )
        params: list[Any] = [
            str(run.status),
            run.cursor,
            run.seq,
            dumps(run.checkpoint),
            None if run.decision is None else dumps(run.decision),
            run.wait_token,
            run.runner_id,
            run.lease_until,
            run.updated_at,
            run.error,
            run.run_id,
            expect_seq,
        ]
        if expect_runner is not None:
            sql += " AND runner_id=?"
            params.append(expect_runner)
        return await self._changed(sql, params) == 1

    async def claim_run(
        self, run_id: str, runner_id: str, now: float, until: float
    ) -> RunRow | None:
        changed = await self._changed(
            "UPDATE runs SET runner_id=?, lease_until=? WHERE run_id=? "
            "AND status IN ('running', 'resuming') "
            "AND (runner_id IS NULL OR runner_id=? OR lease_until IS NULL OR lease_until < ?)",
            (runner_id, until, run_id, runner_id, now),
        )
        return await self.get_run(run_id) if changed == 1 else None

    async def release_leases(self, runner_id: str) -> int:
        return await self._changed(
            "UPDATE runs SET runner_id=NULL, lease_until=NULL WHERE runner_id=? "
            "AND status IN ('running', 'resuming')",
            (runner_id,),
        )

    async def renew_lease(self, run_id: str, runner_id: str, until: float) -> bool:
        changed = await self._changed(
            "UPDATE runs SET lease_until=? WHERE run_id=? AND runner_id=? "
            "AND status IN ('running', 'resuming')",
            (until, run_id, runner_id),
        )
        return changed == 1

    async def runnable_runs(self, runner_id: str, now: float, limit: int) -> list[str]:
        rows = await self._db.execute_fetchall(
            "SELECT run_id FROM runs WHERE status IN ('running', 'resuming') "
            "AND (runner_id IS NULL OR runner_id=? OR lease_until IS NULL OR lease_until < ?) "
            "ORDER BY updated_at LIMIT ?",
            (runner_id, now, limit),
        )
        return [r[0] for r in rows]

    async def insert_wait(self, wait: WaitRow) -> None:
        await self._db.execute(
            f"INSERT INTO waits ({WAIT_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
            wait_params(wait),
        )

    async def get_wait(self, token: str) -> WaitRow | None:
        row = await self._one(f"SELECT {WAIT_COLS} FROM waits WHERE token = ?", (token,))  # noqa: S608
        return None if row is None else wait_from(row)

    async def close_wait(self, wait: WaitRow) -> bool:
        changed = await self._changed(
            "UPDATE waits SET status=?, decision_json=?, actor=?, actor_display=?, decided_at=? "
            "WHERE token=? AND status='pending'",
            (
                str(wait.status),
                None if wait.decision is None else dumps(wait.decision),
                wait.actor,
                wait.actor_display,
                wait.decided_at,
                wait.token,
            ),
        )
        return changed == 1

    async def due_waits(self, now: float, limit: int) -> list[str]:
        rows = await self._db.execute_fetchall(
            "SELECT token FROM waits WHERE status = 'pending' AND expires_at IS NOT NULL "
            "AND expires_at <= ? ORDER BY expires_at LIMIT ?",
            (now, limit),
        )
        return [r[0] for r in rows]

    async def next_expiry(self) -> float | None:
        row = await self._one(
            "SELECT MIN(expires_at) FROM waits WHERE status = 'pending' AND expires_at IS NOT NULL",
            (),
        )
        return None if row is None else row[0]

    async def pending_waits(self, platform: str, scope: str) -> list[WaitRow]:
        cols = ", ".join(f"w.{c.strip()}" for c in WAIT_COLS.split(","))
        rows = await self._db.execute_fetchall(
            f"SELECT {cols} FROM waits w JOIN runs r ON r.run_id = w.run_id "  # noqa: S608
            "WHERE w.status = 'pending' AND json_extract(r.origin_json, '$.platform') = ? "
            "AND json_extract(r.origin_json, '$.scope') = ? ORDER BY w.created_at",
            (platform, scope),
        )
        return [wait_from(r) for r in rows]

    async def open_effects(self, run_id: str) -> int:
        row = await self._one(
            "SELECT COUNT(*) FROM outbox WHERE run_id = ? AND status IN ('pending', 'in_flight')",
            (run_id,),
        )
        return int(row[0]) if row is not None else 0

    async def insert_inbox(self, row: InboxRow) -> bool:
        changed = await self._changed(
            "INSERT OR IGNORE INTO inbox (platform, interaction_id, token, received_at, result) "
            "VALUES (?,?,?,?,?)",
            (row.platform, row.interaction_id, row.token, row.received_at, row.result),
        )
        return changed == 1

    async def get_inbox(self, platform: str, interaction_id: str) -> InboxRow | None:
        r = await self._one(
            "SELECT platform, interaction_id, token, received_at, result FROM inbox "
            "WHERE platform = ? AND interaction_id = ?",
            (platform, interaction_id),
        )
        return None if r is None else InboxRow(r[0], r[1], r[2], r[3], r[4])

    async def set_inbox_result(self, platform: str, interaction_id: str, result: str) -> None:
        await self._db.execute(
            "UPDATE inbox SET result = ? WHERE platform = ? AND interaction_id = ?",
            (result, platform, interaction_id),
        )

    async def insert_effects(self, rows: Sequence[OutboxRow]) -> None:
        if not rows:
            return
        await self._db.executemany(
            f"INSERT INTO outbox ({OUTBOX_COLS}) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)",  # noqa: S608
            [effect_params(e) for e in rows],
        )

    async def get_effect(self, effect_id: str) -> OutboxRow | None:
        row = await self._one(
            f"SELECT {OUTBOX_COLS} FROM outbox WHERE effect_id = ?",  # noqa: S608
            (effect_id,),
        )
        return None if row is None else effect_from(row)

    async def update_effect(self, row: OutboxRow, *, expect_claim: str | None) -> bool:
        sql = (
            "UPDATE outbox SET status=?, attempts=?, next_attempt_at=?, platform_ref=?, "
            "last_error=?, updated_at=?, claimed_by=? WHERE effect_id=?"
        )
        params: list[Any] = [
            str(row.status),
            row.attempts,
            row.next_attempt_at,
            row.platform_ref,
            row.last_error,
            row.updated_at,
            row.claimed_by,
            row.effect_id,
        ]
        if expect_claim is not None:
            sql += " AND claimed_by=?"
            params.append(expect_claim)
        return await self._changed(sql, params) == 1

    async def claim_effect(
        self, effect_id: str, runner_id: str, now: float, until: float
    ) -> OutboxRow | None:
        changed = await self._changed(
            "UPDATE outbox SET claimed_by=?, next_attempt_at=? WHERE effect_id=? "
            "AND status IN ('pending', 'in_flight') AND (next_attempt_at <= ? OR claimed_by=?)",
            (runner_id, until, effect_id, now, runner_id),
        )
        return await self.get_effect(effect_id) if changed == 1 else None

    async def due_effects(self, now: float, runner_id: str, limit: int) -> list[OutboxRow]:
        cols = ", ".join(f"o.{c.strip()}" for c in OUTBOX_COLS.split(","))
        rows = await self._db.execute_fetchall(
            f"SELECT {cols} FROM outbox o WHERE {HEAD} "  # noqa: S608
            "AND (o.next_attempt_at <= ? OR o.claimed_by = ?) "
            "ORDER BY o.next_attempt_at, o.seq, o.n LIMIT ?",
            (now, runner_id, limit),
        )
        return [effect_from(r) for r in rows]

    async def next_effect_due(self, runner_id: str) -> float | None:
        row = await self._one(
            "SELECT MIN(CASE WHEN o.claimed_by = ? THEN 0 ELSE o.next_attempt_at END) "  # noqa: S608
            f"FROM outbox o WHERE {HEAD}",
            (runner_id,),
        )
        return None if row is None else row[0]

    async def card_effects(self, token: str) -> list[OutboxRow]:
        rows = await self._db.execute_fetchall(
            f"SELECT {OUTBOX_COLS} FROM outbox WHERE token = ? AND kind = 'review.post' "  # noqa: S608
            "ORDER BY seq, n",
            (token,),
        )
        return [effect_from(r) for r in rows]

    async def add_audit(self, rows: Sequence[AuditRow]) -> None:
        if not rows:
            return
        self.audited = True
        await self._db.executemany(
            "INSERT INTO audit (run_id, at, actor, event, data_json) VALUES (?,?,?,?,?)",
            [(a.run_id, a.at, a.actor, a.event, dumps(a.data)) for a in rows],
        )

    async def audit(self, run_id: str | None = None) -> list[AuditRow]:
        sql = "SELECT id, run_id, at, actor, event, data_json FROM audit"
        params: tuple[Any, ...] = ()
        if run_id is not None:
            sql, params = sql + " WHERE run_id = ?", (run_id,)
        rows = await self._db.execute_fetchall(sql + " ORDER BY id", params)
        return [AuditRow(r[1], r[2], r[3], r[4], json.loads(r[5]), id=r[0]) for r in rows]

    async def save_scope(self, config: ScopeConfig) -> None:
        await self._db.execute(
            f"INSERT OR REPLACE INTO scopes ({SCOPE_COLS}) VALUES (?,?,?,?,?,?,?)",  # noqa: S608
            scope_params(config),
        )

    async def get_scope(self, platform: str, scope: str) -> ScopeConfig | None:
        r = await self._one(
            f"SELECT {SCOPE_COLS} FROM scopes WHERE platform = ? AND scope = ?",  # noqa: S608
            (platform, scope),
        )
        return None if r is None else scope_from(r)

    async def add_route(self, platform: str, scope: str, surface: Surface, now: float) -> bool:
        return (
            await self._changed(
                "INSERT OR IGNORE INTO routes (platform, scope, surface_platform, surface_channel, "
                "added_at) VALUES (?,?,?,?,?)",
                (platform, scope, surface.platform, surface.channel, now),
            )
            == 1
        )

    async def remove_route(self, platform: str, scope: str, surface: Surface) -> bool:
        return (
            await self._changed(
                "DELETE FROM routes WHERE platform = ? AND scope = ? AND surface_platform = ? "
                "AND surface_channel = ?",
                (platform, scope, surface.platform, surface.channel),
            )
            == 1
        )

    async def routes(self, platform: str, scope: str) -> list[Surface]:
        rows = await self._db.execute_fetchall(
            "SELECT surface_platform, surface_channel FROM routes WHERE platform = ? AND scope = ? "
            "ORDER BY added_at, surface_platform, surface_channel",
            (platform, scope),
        )
        return [Surface(r[0], r[1]) for r in rows]

    async def add_link_code(self, code: str, platform: str, scope: str, expires_at: float) -> None:
        await self._db.execute(
            "INSERT INTO link_codes (code, platform, scope, expires_at) VALUES (?,?,?,?)",
            (code, platform, scope, expires_at),
        )

    async def take_link_code(self, code: str, now: float) -> tuple[str, str] | None:
        row = await self._one(
            "SELECT platform, scope, expires_at FROM link_codes WHERE code = ?", (code,)
        )
        await self._db.execute(
            "DELETE FROM link_codes WHERE code = ? OR expires_at <= ?", (code, now)
        )
        if row is None or row[2] <= now:
            return None
        return str(row[0]), str(row[1])
