"""SQLite side of the console's reads on ``Tx``.

The queue, one run, the audit tail and routes; history and stats (``_insights``).
"""

import json
from collections.abc import Sequence
from typing import Any

from bot.models import Surface
from bot.store import _board_sql as sql
from bot.store._insights import InsightQueries
from bot.store._insights_sql import Sql
from bot.store._rows import effect_from, wait_from
from bot.store._sqlite_conn import LoopConnection
from bot.store.records import AuditRow, OutboxRow, ReviewRow, RunStatus, WaitRow, WaitStatus


def review_from(r: Any) -> ReviewRow:
    """A row of ``REVIEWS`` (wait columns, then the run's origin and status) as a record."""
    return ReviewRow(wait_from(r[:15]), json.loads(r[15]), RunStatus(r[16]))


def audit_from(r: Any) -> AuditRow:
    """A row of ``AUDIT_SINCE`` as a record."""
    return AuditRow(r[1], r[2], r[3], r[4], json.loads(r[5]), id=r[0])


class SqliteBoardQueries:
    """Reads for the web console; mixed into ``SqliteTx``."""

    _db: LoopConnection

    async def reviews(self, status: WaitStatus, since: float, limit: int) -> list[ReviewRow]:
        rows = await self._db.execute_fetchall(sql.REVIEWS, (str(status), since, limit))
        return [review_from(r) for r in rows]

    async def run_waits(self, run_id: str) -> list[WaitRow]:
        return [wait_from(r) for r in await self._db.execute_fetchall(sql.RUN_WAITS, (run_id,))]

    async def run_effects(self, run_id: str) -> list[OutboxRow]:
        rows = await self._db.execute_fetchall(sql.RUN_EFFECTS, (run_id,))
        return [effect_from(r) for r in rows]

    async def audit_since(self, after: int, limit: int) -> list[AuditRow]:
        rows = await self._db.execute_fetchall(sql.AUDIT_SINCE, (after, limit))
        return [audit_from(r) for r in rows]

    async def last_audit_id(self) -> int:
        rows = list(await self._db.execute_fetchall(sql.LAST_AUDIT))
        return int(rows[0][0]) if rows and rows[0][0] is not None else 0

    async def all_routes(self) -> list[tuple[str, str, Surface]]:
        rows = await self._db.execute_fetchall(sql.ALL_ROUTES)
        return [(str(r[0]), str(r[1]), Surface(str(r[2]), str(r[3]))) for r in rows]


class SqliteInsights(InsightQueries):
    """The console's history and stats on SQLite; mixed into ``SqliteTx``."""

    _db: LoopConnection
    _insight_sql = Sql("sqlite")

    async def _fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return list(await self._db.execute_fetchall(sql, params))
