"""The PostgreSQL ``Tx`` statements for the outbox, audit and scopes (runs and waits: _pg_tx.py).

Compare-and-sets are single UPDATEs whose WHERE holds the expected state: under READ COMMITTED
a concurrent writer of the same row makes us wait for its commit, then PostgreSQL re-checks the
WHERE on the row as committed, so exactly one of two racing compare-and-sets matches. A claim
locks its row with ``FOR UPDATE SKIP LOCKED``: a row another transaction holds is skipped (the
claim returns None at once and the effect is tried again later) instead of queued for.
"""

import json
from collections.abc import Sequence
from typing import Any

from psycopg import AsyncConnection, AsyncCursor, AsyncPipeline
from psycopg.rows import TupleRow

from bot.models import ScopeConfig
from bot.store._rows import (
    HEAD,
    OUTBOX_COLS,
    SCOPE_COLS,
    dumps,
    effect_from,
    effect_params,
    scope_from,
    scope_params,
)
from bot.store.records import OUTBOX_LOOP, AuditRow, OutboxRow

Conn = AsyncConnection[TupleRow]
_O_COLS = ", ".join(f"o.{c.strip()}" for c in OUTBOX_COLS.split(","))
CARD_EFFECTS = (
    f"SELECT {OUTBOX_COLS} FROM outbox WHERE token = %s AND kind = 'review.post' "  # noqa: S608
    "ORDER BY seq, n"
)
_OUTBOX_VALUES = ", ".join(["%s"] * len(OUTBOX_COLS.split(",")))


class PgStatements:
    """Helpers over the one connection of a transaction (the store holds BEGIN ... COMMIT).

    The connection is in pipeline mode: a statement is only queued. Reads (``_one``, ``_all``)
    and compare-and-sets (``_changed``: the caller needs the row count) send the queue and
    wait, one round trip; a statement whose result nobody reads (``_send``, ``_many``) goes
    with the next of those, or with the COMMIT. Its error, if any, is raised there: still
    inside the transaction block, which then rolls back.

    A compare-and-set may also queue the reads its caller asks for next (``ahead``: the
    decision reads the wait after the inbox insert, the run and its cards after closing the
    wait). Such a read is answered from that round trip only if it is the very next statement
    with the same SQL and parameters; any other statement first discards it. It ran at the
    same place in the transaction's order as asking for it then would have.
    """

    def __init__(self, conn: Conn, pipeline: AsyncPipeline) -> None:
        self._conn, self._pipeline = conn, pipeline
        self._ahead: list[tuple[str, Sequence[Any], AsyncCursor[TupleRow]]] = []
        self.wakes: set[str] = set()  # loops this transaction made work for (NOTIFY at commit)
        self.leased = False  # a step commit under our run lease: we deliver its effects ourselves
        self.audited = False  # audit rows were added: the store rings its bell after COMMIT

    def hints(self) -> set[str]:
        """The loops to notify at COMMIT.

        Effects written by a step commit under our lease are left out: the process that holds
        the run delivers them itself, in order, and three processes racing for every effect
        cost more than they help (measured by bench/scale.py).
        """
        return self.wakes - {OUTBOX_LOOP} if self.leased else set(self.wakes)

    async def _execute(self, sql: str, params: Sequence[Any]) -> AsyncCursor[TupleRow]:
        """The cursor of ``sql``: read ahead if it was the next statement, else queued now."""
        ahead = self._ahead[:1]
        self._ahead = self._ahead[1:] if ahead else []
        if ahead and ahead[0][0] == sql and list(ahead[0][1]) == list(params):
            return ahead[0][2]
        self._ahead = []  # another statement comes first: what was read ahead may be stale
        return await self._conn.execute(sql, params)

    async def _send(self, sql: str, params: Sequence[Any] = ()) -> None:
        await self._execute(sql, params)

    async def _one(self, sql: str, params: Sequence[Any] = ()) -> TupleRow | None:
        return await (await self._execute(sql, params)).fetchone()

    async def _all(self, sql: str, params: Sequence[Any] = ()) -> list[TupleRow]:
        return await (await self._execute(sql, params)).fetchall()

    async def _changed(
        self, sql: str, params: Sequence[Any], *, ahead: Sequence[tuple[str, Sequence[Any]]] = ()
    ) -> int:
        cursor = await self._execute(sql, params)
        for read, read_params in ahead:
            self._ahead.append((read, read_params, await self._conn.execute(read, read_params)))
        await self._pipeline.sync()  # a Sync inside BEGIN ... COMMIT ends no transaction
        return cursor.rowcount

    async def _many(self, sql: str, rows: Sequence[Sequence[Any]]) -> None:
        self._ahead = []
        async with self._conn.cursor() as cursor:
            await cursor.executemany(sql, rows)


class PgOutbox(PgStatements):
    """Outbox, audit and scope statements."""

    async def insert_effects(self, rows: Sequence[OutboxRow]) -> None:
        if rows:
            sql = f"INSERT INTO outbox ({OUTBOX_COLS}) VALUES ({_OUTBOX_VALUES})"  # noqa: S608
            await self._many(sql, [effect_params(e) for e in rows])
            self.wakes.add(OUTBOX_LOOP)

    async def get_effect(self, effect_id: str) -> OutboxRow | None:
        sql = f"SELECT {OUTBOX_COLS} FROM outbox WHERE effect_id = %s"  # noqa: S608
        row = await self._one(sql, (effect_id,))
        return None if row is None else effect_from(row)

    async def update_effect(self, row: OutboxRow, *, expect_claim: str | None) -> bool:
        sql = (
            "UPDATE outbox SET status=%s, attempts=%s, next_attempt_at=%s, platform_ref=%s, "
            "last_error=%s, updated_at=%s, claimed_by=%s WHERE effect_id=%s"
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
            sql += " AND claimed_by=%s"
            params.append(expect_claim)
        return await self._changed(sql, params) == 1

    async def claim_effect(
        self, effect_id: str, runner_id: str, now: float, until: float
    ) -> OutboxRow | None:
        row = await self._one(
            "UPDATE outbox SET claimed_by=%s, next_attempt_at=%s WHERE effect_id = ("  # noqa: S608
            "SELECT effect_id FROM outbox WHERE effect_id=%s "
            "AND status IN ('pending', 'in_flight') AND (next_attempt_at <= %s OR claimed_by=%s) "
            f"FOR UPDATE SKIP LOCKED) RETURNING {OUTBOX_COLS}",
            (runner_id, until, effect_id, now, runner_id),
        )
        return None if row is None else effect_from(row)

    async def due_effects(self, now: float, runner_id: str, limit: int) -> list[OutboxRow]:
        rows = await self._all(
            f"SELECT {_O_COLS} FROM outbox o WHERE {HEAD} "  # noqa: S608
            "AND (o.next_attempt_at <= %s OR o.claimed_by = %s) "
            "ORDER BY o.next_attempt_at, o.seq, o.n LIMIT %s",
            (now, runner_id, limit),
        )
        return [effect_from(r) for r in rows]

    async def next_effect_due(self, runner_id: str) -> float | None:
        row = await self._one(
            "SELECT MIN(CASE WHEN o.claimed_by = %s THEN 0 ELSE o.next_attempt_at END) "  # noqa: S608
            f"FROM outbox o WHERE {HEAD}",
            (runner_id,),
        )
        return None if row is None or row[0] is None else float(row[0])

    async def open_effects(self, run_id: str) -> int:
        row = await self._one(
            "SELECT COUNT(*) FROM outbox WHERE run_id = %s AND status IN ('pending', 'in_flight')",
            (run_id,),
        )
        return int(row[0]) if row is not None else 0

    async def card_effects(self, token: str) -> list[OutboxRow]:
        rows = await self._all(CARD_EFFECTS, (token,))
        return [effect_from(r) for r in rows]

    async def add_audit(self, rows: Sequence[AuditRow]) -> None:
        if rows:
            self.audited = True
            await self._many(
                "INSERT INTO audit (run_id, at, actor, event, data_json) VALUES (%s,%s,%s,%s,%s)",
                [(a.run_id, a.at, a.actor, a.event, dumps(a.data)) for a in rows],
            )

    async def audit(self, run_id: str | None = None) -> list[AuditRow]:
        sql = "SELECT id, run_id, at, actor, event, data_json FROM audit"
        params: tuple[Any, ...] = ()
        if run_id is not None:
            sql, params = sql + " WHERE run_id = %s", (run_id,)
        rows = await self._all(sql + " ORDER BY id", params)
        return [AuditRow(r[1], r[2], r[3], r[4], json.loads(r[5]), id=r[0]) for r in rows]

    async def save_scope(self, config: ScopeConfig) -> None:
        await self._send(
            f"INSERT INTO scopes ({SCOPE_COLS}) VALUES (%s,%s,%s,%s,%s,%s,%s) "  # noqa: S608
            "ON CONFLICT (platform, scope) DO UPDATE SET "
            "mod_channel = EXCLUDED.mod_channel, public_channel = EXCLUDED.public_channel, "
            "moderator_role = EXCLUDED.moderator_role, "
            "blocked_words_json = EXCLUDED.blocked_words_json, "
            "screen_threshold = EXCLUDED.screen_threshold",
            scope_params(config),
        )

    async def get_scope(self, platform: str, scope: str) -> ScopeConfig | None:
        r = await self._one(
            f"SELECT {SCOPE_COLS} FROM scopes WHERE platform = %s AND scope = %s",  # noqa: S608
            (platform, scope),
        )
        return None if r is None else scope_from(r)
