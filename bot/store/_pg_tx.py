"""The PostgreSQL implementation of ``Tx``: runs, waits and inbox here, the rest in _pg_outbox.py.

Inserts that may repeat (a run id, an interaction) are ``ON CONFLICT DO NOTHING``: a second
transaction inserting the same key waits for the first to commit and then inserts nothing.
Statements that make work another process could pick up add its loop to ``wakes`` (a new run,
a resumed run, freed leases, a wait with a timer, outbox rows); the store notifies at COMMIT.
A step commit of a run we hold the lease of wakes nobody: no one else may take it.
A timer more than ``TIMER_HINT_S`` away is not announced either: the sweeping process reads
the earliest expiry again at every poll and lease renewal (5 s and 10 s by default) anyway.
"""

from collections.abc import Sequence
from typing import Any

from bot.store import _cards_sql as cards_sql
from bot.store._installs_sql import InstallQueries
from bot.store._pg_board import PgBoard, PgInsights
from bot.store._pg_extra import PgDoctor, PgDuties, PgOps, PgQueues
from bot.store._pg_outbox import CARD_EFFECTS, PgOutbox
from bot.store._requests_sql import RequestQueries
from bot.store._rows import RUN_COLS, WAIT_COLS, dumps, run_from, run_params, wait_from, wait_params
from bot.store.records import RUNS_LOOP, TIMERS_LOOP, InboxRow, RunRow, RunStatus, WaitRow

TIMER_HINT_S = 60.0
_RUN_VALUES = ", ".join(["%s"] * len(RUN_COLS.split(",")))
_WAIT_VALUES = ", ".join(["%s"] * len(WAIT_COLS.split(",")))
_W_COLS = ", ".join(f"w.{c.strip()}" for c in WAIT_COLS.split(","))
_GET_RUN = f"SELECT {RUN_COLS} FROM runs WHERE run_id = %s"  # noqa: S608
_GET_WAIT = f"SELECT {WAIT_COLS} FROM waits WHERE token = %s"  # noqa: S608
# free, expired or ours: who may take a runnable run's lease
_CLAIMABLE = (
    "status IN ('running', 'resuming') "
    "AND (runner_id IS NULL OR runner_id=%s OR lease_until IS NULL OR lease_until < %s)"
)


class PgTx(
    PgOutbox,
    PgQueues,
    PgOps,
    PgDoctor,
    PgDuties,
    PgBoard,
    PgInsights,
    RequestQueries,
    InstallQueries,
):
    """Statements of one PostgreSQL transaction."""

    MARK = "%s"
    LOCKS_ROWS = True

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        return list(await self._all(sql, params))

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        return await self._changed(sql, params)

    def _sql(self, sql: str) -> str:
        return cards_sql.pg(sql)

    async def serialize(self, key: str) -> None:
        # READ COMMITTED: every statement after the lock sees what its last holder committed
        await self._one("SELECT pg_advisory_xact_lock(hashtextextended(%s, 0))", (key,))

    async def insert_run(self, run: RunRow) -> bool:
        sql = f"INSERT INTO runs ({RUN_COLS}) VALUES ({_RUN_VALUES}) ON CONFLICT DO NOTHING"  # noqa: S608
        inserted = await self._changed(sql, run_params(run)) == 1
        if inserted:
            self.wakes.add(RUNS_LOOP)
        return inserted

    async def get_run(self, run_id: str) -> RunRow | None:
        row = await self._one(_GET_RUN, (run_id,))
        return None if row is None else run_from(row)

    async def save_run(self, run: RunRow, *, expect_seq: int, expect_runner: str | None) -> bool:
        sql = (
            "UPDATE runs SET status=%s, cursor=%s, seq=%s, checkpoint_json=%s, decision_json=%s, "
            "wait_token=%s, runner_id=%s, lease_until=%s, updated_at=%s, error=%s "
            "WHERE run_id=%s AND seq=%s"
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
            sql += " AND runner_id=%s"
            params.append(expect_runner)
        saved = await self._changed(sql, params) == 1
        if saved and run.status == RunStatus.RESUMING:  # decided: any process may resume it
            self.wakes.add(RUNS_LOOP)
        self.leased = self.leased or (saved and expect_runner is not None)
        return saved

    async def claim_run(
        self, run_id: str, runner_id: str, now: float, until: float
    ) -> RunRow | None:
        row = await self._one(
            "UPDATE runs SET runner_id=%s, lease_until=%s WHERE run_id = ("  # noqa: S608
            f"SELECT run_id FROM runs WHERE run_id=%s AND {_CLAIMABLE} FOR UPDATE SKIP LOCKED) "
            f"RETURNING {RUN_COLS}",
            (runner_id, until, run_id, runner_id, now),
        )
        return None if row is None else run_from(row)

    async def release_leases(self, runner_id: str) -> int:
        released = await self._changed(
            "UPDATE runs SET runner_id=NULL, lease_until=NULL WHERE runner_id=%s "
            "AND status IN ('running', 'resuming')",
            (runner_id,),
        )
        if released:
            self.wakes.add(RUNS_LOOP)
        return released

    async def renew_lease(self, run_id: str, runner_id: str, until: float) -> bool:
        changed = await self._changed(
            "UPDATE runs SET lease_until=%s WHERE run_id=%s AND runner_id=%s "
            "AND status IN ('running', 'resuming')",
            (until, run_id, runner_id),
        )
        return changed == 1

    async def runnable_runs(self, runner_id: str, now: float, limit: int) -> list[str]:
        rows = await self._all(
            f"SELECT run_id FROM runs WHERE {_CLAIMABLE} ORDER BY updated_at LIMIT %s",  # noqa: S608
            (runner_id, now, limit),
        )
        return [r[0] for r in rows]

    async def insert_wait(self, wait: WaitRow) -> None:
        sql = f"INSERT INTO waits ({WAIT_COLS}) VALUES ({_WAIT_VALUES})"  # noqa: S608
        await self._send(sql, wait_params(wait))
        if wait.expires_at is not None and wait.expires_at - wait.created_at < TIMER_HINT_S:
            self.wakes.add(TIMERS_LOOP)  # the sweeping process may have to fire it sooner

    async def get_wait(self, token: str) -> WaitRow | None:
        row = await self._one(_GET_WAIT, (token,))
        return None if row is None else wait_from(row)

    async def close_wait(self, wait: WaitRow) -> bool:
        changed = await self._changed(
            "UPDATE waits SET status=%s, decision_json=%s, actor=%s, actor_display=%s, "
            "decided_at=%s WHERE token=%s AND status='pending'",
            (
                str(wait.status),
                None if wait.decision is None else dumps(wait.decision),
                wait.actor,
                wait.actor_display,
                wait.decided_at,
                wait.token,
            ),
            ahead=[(_GET_RUN, (wait.run_id,)), (CARD_EFFECTS, (wait.token,))],  # what decide reads
        )
        return changed == 1

    async def due_waits(self, now: float, limit: int) -> list[str]:
        rows = await self._all(
            "SELECT token FROM waits WHERE status = 'pending' AND expires_at IS NOT NULL "
            "AND expires_at <= %s ORDER BY expires_at LIMIT %s",
            (now, limit),
        )
        return [r[0] for r in rows]

    async def next_expiry(self) -> float | None:
        row = await self._one(
            "SELECT MIN(expires_at) FROM waits WHERE status = 'pending' AND expires_at IS NOT NULL"
        )
        return None if row is None or row[0] is None else float(row[0])

    async def pending_waits(self, platform: str, scope: str) -> list[WaitRow]:
        rows = await self._all(
            f"SELECT {_W_COLS} FROM waits w JOIN runs r ON r.run_id = w.run_id "  # noqa: S608
            "WHERE w.status = 'pending' AND r.origin_json::jsonb ->> 'platform' = %s "
            "AND r.origin_json::jsonb ->> 'scope' = %s ORDER BY w.created_at",
            (platform, scope),
        )
        return [wait_from(r) for r in rows]

    async def insert_inbox(self, row: InboxRow) -> bool:
        changed = await self._changed(
            "INSERT INTO inbox (platform, interaction_id, token, received_at, result) "
            "VALUES (%s,%s,%s,%s,%s) ON CONFLICT DO NOTHING",
            (row.platform, row.interaction_id, row.token, row.received_at, row.result),
            ahead=[(_GET_WAIT, (row.token,))],  # a click reads its wait next
        )
        return changed == 1

    async def get_inbox(self, platform: str, interaction_id: str) -> InboxRow | None:
        r = await self._one(
            "SELECT platform, interaction_id, token, received_at, result FROM inbox "
            "WHERE platform = %s AND interaction_id = %s",
            (platform, interaction_id),
        )
        return None if r is None else InboxRow(r[0], r[1], r[2], r[3], r[4])

    async def set_inbox_result(self, platform: str, interaction_id: str, result: str) -> None:
        await self._send(
            "UPDATE inbox SET result = %s WHERE platform = %s AND interaction_id = %s",
            (result, platform, interaction_id),
        )
