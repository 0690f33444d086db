"""The ``requests`` statements of ``Tx``, portable SQL for both backends (``?`` placeholders).

A scope's slots in use are its ``active`` requests whose run is not over yet: the run's own
status is the truth, so a run that ended any way at all frees its slot, and ``state`` only
keeps the set of rows to look at small (``settle_requests`` marks the ended ones ``done``).
"""

import json
from collections.abc import Sequence
from typing import Any

from bot.store._rows import dumps
from bot.store.records import RequestRow, RequestState

REQUEST_COLS = (
    "run_id, flow, platform, scope, requester, topic, origin_json, shared_json, max_active, "
    "state, requested_at, admitted_at, done_at, id"
)
_OVER = "('finished', 'failed')"  # run statuses that free a slot


def request_from(r: Any) -> RequestRow:
    """A requests row as a record."""
    return RequestRow(
        run_id=r[0],
        flow=r[1],
        platform=r[2],
        scope=r[3],
        requester=r[4],
        topic=r[5],
        origin=json.loads(r[6]),
        shared=json.loads(r[7]),
        max_active=int(r[8]),
        state=RequestState(r[9]),
        requested_at=float(r[10]),
        admitted_at=None if r[11] is None else float(r[11]),
        done_at=None if r[12] is None else float(r[12]),
        id=int(r[13]),
    )


class RequestQueries:
    """Statements on ``requests``; the backend supplies ``_fetch``, ``_write`` and ``_sql``."""

    async def _fetch(self, sql: str, params: Sequence[Any]) -> list[Any]:
        raise NotImplementedError

    async def _write(self, sql: str, params: Sequence[Any]) -> int:
        raise NotImplementedError

    def _sql(self, sql: str) -> str:
        return sql

    async def insert_request(self, row: RequestRow) -> bool:
        found = await self._fetch(
            self._sql(
                "INSERT INTO requests (run_id, flow, platform, scope, requester, topic, "
                "origin_json, shared_json, max_active, state, requested_at, admitted_at, done_at) "
                "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT (run_id) DO NOTHING RETURNING id"
            ),
            (
                row.run_id,
                row.flow,
                row.platform,
                row.scope,
                row.requester,
                row.topic,
                dumps(row.origin),
                dumps(row.shared),
                row.max_active,
                str(row.state),
                row.requested_at,
                row.admitted_at,
                row.done_at,
            ),
        )
        if not found:
            return False
        row.id = int(found[0][0])
        return True

    async def get_request(self, run_id: str) -> RequestRow | None:
        rows = await self._fetch(
            self._sql(f"SELECT {REQUEST_COLS} FROM requests WHERE run_id = ?"),  # noqa: S608
            (run_id,),
        )
        return request_from(rows[0]) if rows else None

    async def last_request_at(self, requester: str) -> float | None:
        rows = await self._fetch(
            self._sql(
                "SELECT requested_at FROM requests WHERE requester = ? ORDER BY id DESC LIMIT 1"
            ),
            (requester,),
        )
        return float(rows[0][0]) if rows else None

    async def settle_requests(self, platform: str, scope: str, now: float) -> int:
        return await self._write(
            self._sql(
                "UPDATE requests SET state = 'done', done_at = ? WHERE platform = ? AND scope = ? "
                "AND state = 'active' AND run_id IN (SELECT r.run_id FROM runs r "
                "WHERE r.run_id = requests.run_id AND r.status IN ('finished', 'failed'))"
            ),
            (now, platform, scope),
        )

    async def active_requests(self, platform: str, scope: str) -> int:
        rows = await self._fetch(
            self._sql(
                "SELECT COUNT(*) FROM requests q JOIN runs r ON r.run_id = q.run_id "  # noqa: S608
                f"WHERE q.platform = ? AND q.scope = ? AND q.state = 'active' "
                f"AND r.status NOT IN {_OVER}"
            ),
            (platform, scope),
        )
        return int(rows[0][0])

    async def queued_requests(self, platform: str, scope: str, limit: int) -> list[RequestRow]:
        rows = await self._fetch(
            self._sql(
                f"SELECT {REQUEST_COLS} FROM requests WHERE platform = ? AND scope = ? "  # noqa: S608
                "AND state = 'queued' ORDER BY id LIMIT ?"
            ),
            (platform, scope, limit),
        )
        return [request_from(r) for r in rows]

    async def queued_ahead(self, platform: str, scope: str, request_id: int) -> int:
        rows = await self._fetch(
            self._sql(
                "SELECT COUNT(*) FROM requests WHERE platform = ? AND scope = ? "
                "AND state = 'queued' AND id < ?"
            ),
            (platform, scope, request_id),
        )
        return int(rows[0][0])

    async def admit_request(self, run_id: str, now: float) -> bool:
        return (
            await self._write(
                self._sql(
                    "UPDATE requests SET state = 'active', admitted_at = ?, shared_json = '{}' "
                    "WHERE run_id = ? AND state = 'queued'"
                ),
                (now, run_id),
            )
            == 1
        )

    async def queued_scopes(self, limit: int) -> list[tuple[str, str]]:
        rows = await self._fetch(
            self._sql(
                "SELECT platform, scope FROM requests WHERE state = 'queued' "
                "GROUP BY platform, scope ORDER BY MIN(id) LIMIT ?"
            ),
            (limit,),
        )
        return [(str(r[0]), str(r[1])) for r in rows]

    async def requests_of(self, requester: str, limit: int) -> list[RequestRow]:
        rows = await self._fetch(
            self._sql(
                f"SELECT {REQUEST_COLS} FROM requests WHERE requester = ? "  # noqa: S608
                "ORDER BY id DESC LIMIT ?"
            ),
            (requester, limit),
        )
        return [request_from(r) for r in rows]

    async def reviews_ahead(self, platform: str, scope: str, since: float, request_id: int) -> int:
        rows = await self._fetch(
            self._sql(
                "SELECT COUNT(*) FROM requests q JOIN runs r ON r.run_id = q.run_id "
                "JOIN waits w ON w.token = r.wait_token WHERE q.platform = ? AND q.scope = ? "
                "AND q.state = 'active' AND r.status = 'waiting' AND w.status = 'pending' "
                "AND w.kind = 'review' AND (w.created_at < ? OR (w.created_at = ? AND q.id < ?))"
            ),
            (platform, scope, since, since, request_id),
        )
        return int(rows[0][0])
