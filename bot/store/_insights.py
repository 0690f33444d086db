"""The console's history and stats on ``Tx``, for both stores (each supplies ``_fetch``).

History pages by keyset (``created_at``, ``run_id``), never OFFSET, so a page is the same
however many runs arrive meanwhile. Percentiles are nearest-rank: decision times are read with
one ``ORDER BY ... LIMIT 1 OFFSET k`` each; drafting times, which need a window over the step
rows, are read once, sorted, and ranked here.
"""

import math
from bisect import bisect_left
from collections.abc import Sequence
from itertools import pairwise
from typing import Any, ClassVar

from bot.models import (
    HistoryCursor,
    HistoryEntry,
    HistoryFilter,
    Percentiles,
    RunStatsReport,
)
from bot.store._insights_sql import BUCKETS, Sql

TOP = 10  # moderators and rejection reasons shown


def like_pattern(text: str) -> str:
    r"""``%text%`` for ``LIKE ... ESCAPE '\\'``, lower-cased, with wildcards taken literally."""
    escaped = text.casefold().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def rank(count: int, p: float) -> int:
    """The 0-based nearest-rank index of percentile ``p`` among ``count`` sorted values."""
    return max(0, math.ceil(p * count) - 1)


class InsightQueries:
    """History and stats reads; mixed into ``SqliteTx`` and ``PgTx``."""

    _insight_sql: ClassVar[Sql]

    async def _fetch(self, sql: str, params: Sequence[Any]) -> Sequence[Sequence[Any]]:
        raise NotImplementedError

    async def history(
        self, where: HistoryFilter, after: HistoryCursor | None, limit: int
    ) -> list[HistoryEntry]:
        conditions, params = self._history_conditions(where, after)
        rows = await self._fetch(self._insight_sql.history(*conditions), [*params, limit])
        return [_entry(r) for r in rows]

    def _history_conditions(
        self, where: HistoryFilter, after: HistoryCursor | None
    ) -> tuple[list[str], list[Any]]:
        sql, conditions, params = self._insight_sql, [], []  # type: tuple[Sql, list[str], list[Any]]
        if after is not None:
            # a row value: both stores seek the (created_at, run_id) index to it, no OFFSET walk
            conditions.append("(r.created_at, r.run_id) < (?, ?)")
            params += [after.created_at, after.run_id]
        if where.since is not None:
            conditions.append("r.created_at >= ?")
            params.append(where.since)
        if where.until is not None:
            conditions.append("r.created_at < ?")
            params.append(where.until)
        if where.platform:
            conditions.append(f"{sql.platform()} = ?")
            params.append(where.platform)
        if where.queue:
            conditions.append(f"{sql.scope()} = ?")
            params.append(where.queue)
        if where.outcome:
            conditions.append(f"{sql.outcome()} = ?")
            params.append(where.outcome)
        if where.search.strip():
            conditions.append(sql.search())
            params += [like_pattern(where.search.strip())] * 3
        return conditions, params

    async def run_stats(
        self, since: float, until: float, *, draft_node: str, failure_event: str
    ) -> RunStatsReport:
        sql, span = self._insight_sql, (since, until)
        requests = {
            (float(day), str(platform)): int(n)
            for day, platform, n in await self._fetch(sql.requests(), span)
        }
        reviews = _review_counts(await self._fetch(sql.reviews(), span))
        decided = reviews["approved"] + reviews["edited"] + reviews["rejected"]
        # the drafting times need a window over the range's step rows: read them once, sorted
        times = [float(r[0]) for r in await self._fetch(sql.drafting_times(), (*span, draft_node))]
        failures = await self._fetch(sql.llm_failures(), (*span, failure_event))
        return RunStatsReport(
            since=since,
            until=until,
            requests=requests,
            reviews=reviews,
            decision_time=await self._percentiles(sql.decision_time(), span, decided),
            moderators=await self._top(sql.moderators(), span),
            reasons=await self._top(sql.reasons(), span),
            drafting=_percentiles_of(times),
            drafting_buckets=_buckets(len(times), [bisect_left(times, e) for e in BUCKETS]),
            llm_calls=len(times),
            llm_failures={float(day): int(n) for day, n in failures},
        )

    async def _percentiles(self, sql: str, params: Sequence[Any], count: int) -> Percentiles:
        if count == 0:
            return Percentiles(0, None, None)
        p50, p95 = [await self._value_at(sql, params, rank(count, p)) for p in (0.5, 0.95)]
        return Percentiles(count, p50, p95)

    async def _value_at(self, sql: str, params: Sequence[Any], index: int) -> float:
        return float((await self._fetch(sql, [*params, index]))[0][0])

    async def _top(self, sql: str, params: Sequence[Any]) -> tuple[tuple[str, int], ...]:
        return tuple((str(name), int(n)) for name, n in await self._fetch(sql, [*params, TOP]))


def _percentiles_of(ordered: list[float]) -> Percentiles:
    """Nearest-rank p50 and p95 of values already sorted."""
    if not ordered:
        return Percentiles(0, None, None)
    count = len(ordered)
    return Percentiles(count, ordered[rank(count, 0.5)], ordered[rank(count, 0.95)])


def _review_counts(rows: Sequence[Sequence[Any]]) -> dict[str, int]:
    """Reviews by result: a decided review counts under its action (approve, edit, reject)."""
    counts = dict.fromkeys(("approved", "edited", "rejected", "expired", "pending", "cancelled"), 0)
    names = {"approve": "approved", "edit": "edited", "reject": "rejected"}
    for status, action, n in rows:
        key = names.get(str(action), "") if status == "decided" else str(status)
        if key in counts:
            counts[key] += int(n)
    return counts


def _buckets(count: int, below: list[int]) -> tuple[tuple[str, int], ...]:
    """Histogram bars from cumulative counts below each edge of ``BUCKETS``."""
    labels = [f"< {BUCKETS[0]:g} s"]
    labels += [f"{lo:g}-{hi:g} s" for lo, hi in pairwise(BUCKETS)]
    labels.append(f"≥ {BUCKETS[-1]:g} s")
    cumulative = [*below, count]
    bars = [cumulative[0], *(b - a for a, b in pairwise(cumulative))]
    return tuple(zip(labels, bars, strict=True))


def _entry(r: Sequence[Any]) -> HistoryEntry:
    return HistoryEntry(
        run_id=str(r[0]),
        created_at=float(r[1]),
        updated_at=float(r[2]),
        platform=str(r[3]),
        scope=str(r[4]),
        requester=str(r[5]),
        topic=str(r[6]),
        draft=str(r[7]),
        outcome=str(r[8]),
        attempts=int(r[9]),
        decided_by=str(r[10]),
        decision=str(r[11]),
        reason=str(r[12]),
        error=str(r[13]),
    )
