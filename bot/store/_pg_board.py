"""PostgreSQL side of the console's reads on ``Tx``.

The queue, one run, the audit tail and routes; history and stats (``_insights``).
"""

from collections.abc import Sequence
from typing import Any

from bot.models import Surface
from bot.store import _board_sql as sql
from bot.store._insights import InsightQueries
from bot.store._insights_sql import Sql
from bot.store._pg_outbox import PgStatements
from bot.store._rows import effect_from, wait_from
from bot.store._sqlite_board import audit_from, review_from
from bot.store.records import AuditRow, OutboxRow, ReviewRow, WaitRow, WaitStatus


class PgBoard(PgStatements):
    """Reads for the web console; mixed into ``PgTx``."""

    async def reviews(self, status: WaitStatus, since: float, limit: int) -> list[ReviewRow]:
        rows = await self._all(sql.pg(sql.REVIEWS), (str(status), since, limit))
        return [review_from(r) for r in rows]

    async def run_waits(self, run_id: str) -> list[WaitRow]:
        return [wait_from(r) for r in await self._all(sql.pg(sql.RUN_WAITS), (run_id,))]

    async def run_effects(self, run_id: str) -> list[OutboxRow]:
        return [effect_from(r) for r in await self._all(sql.pg(sql.RUN_EFFECTS), (run_id,))]

    async def audit_since(self, after: int, limit: int) -> list[AuditRow]:
        return [audit_from(r) for r in await self._all(sql.pg(sql.AUDIT_SINCE), (after, limit))]

    async def last_audit_id(self) -> int:
        row = await self._one(sql.LAST_AUDIT)
        return int(row[0]) if row is not None and row[0] is not None else 0

    async def all_routes(self) -> list[tuple[str, str, Surface]]:
        rows = await self._all(sql.ALL_ROUTES)
        return [(str(r[0]), str(r[1]), Surface(str(r[2]), str(r[3]))) for r in rows]


class PgInsights(PgStatements, InsightQueries):
    """The console's history and stats on PostgreSQL; mixed into ``PgTx``."""

    _insight_sql = Sql("postgres")

    async def _fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        return await self._all(sql, params)
