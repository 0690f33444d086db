"""SQL for the console's history and stats, written once for both dialects.

The two differ only in how a JSON field is read (SQLite ``json_extract``, PostgreSQL
``jsonb #>>``), how a time is floored to its UTC day, and the placeholder; :class:`Sql`
supplies those pieces. Every query is bounded by an indexed column (schema v10): runs by
``created_at``, reviews by ``created_at``, audit rows by ``(event, at)``.
"""

# ruff: noqa: S608  (queries are built from this module's fixed fragments; values are parameters)

from dataclasses import dataclass
from typing import Literal

Dialect = Literal["sqlite", "postgres"]
DAY = 86400
# drafting-time histogram edges, seconds
BUCKETS = (0.5, 1.0, 2.0, 5.0, 10.0)


@dataclass(frozen=True)
class Sql:
    """The dialect-specific pieces of a query."""

    dialect: Dialect

    def json(self, column: str, *path: str) -> str:
        """The text at ``path`` in the JSON text ``column`` (NULL when absent)."""
        if self.dialect == "sqlite":
            return f"json_extract({column}, '$.{'.'.join(path)}')"
        return f"({column}::jsonb #>> '{{{','.join(path)}}}')"

    def day(self, column: str) -> str:
        """``column`` (epoch seconds) floored to its UTC midnight."""
        if self.dialect == "sqlite":
            return f"(CAST({column} / {DAY} AS INTEGER) * {DAY})"
        return f"(FLOOR({column} / {DAY}) * {DAY})"

    def q(self, sql: str) -> str:
        """``sql`` with this dialect's placeholders."""
        return sql if self.dialect == "sqlite" else sql.replace("?", "%s")

    # History: one row per run, newest first ----------------------------------------------

    def outcome(self) -> str:
        """A run's outcome (``bot.models.OUTCOMES``) as an expression over ``runs r``."""
        flow_outcome = self.json("r.checkpoint_json", "shared", "outcome")
        return (
            "(CASE WHEN r.status = 'failed' THEN 'failed' "
            f"WHEN r.status = 'finished' THEN COALESCE(NULLIF({flow_outcome}, ''), 'finished') "
            "WHEN r.status = 'waiting' AND EXISTS (SELECT 1 FROM waits p WHERE "
            "p.token = r.wait_token AND p.kind = 'review' AND p.status = 'pending') "
            "THEN 'pending' ELSE 'running' END)"
        )

    def history(self, *conditions: str) -> str:
        """The history query with ``conditions`` ANDed; the last placeholder is the limit."""
        where = " AND ".join(conditions) if conditions else "1 = 1"
        last = (
            "(SELECT l.token FROM waits l WHERE l.run_id = r.run_id AND l.kind = 'review' "
            "ORDER BY l.seq DESC LIMIT 1)"
        )
        return self.q(
            f"SELECT r.run_id, r.created_at, r.updated_at, "
            f"COALESCE({self.platform()}, ''), COALESCE({self.scope()}, ''), "
            f"COALESCE({self.requester()}, ''), COALESCE({self.topic()}, ''), "
            f"COALESCE({self.json('w.payload_json', 'draft')}, ''), {self.outcome()}, "
            "(SELECT COUNT(*) FROM waits c WHERE c.run_id = r.run_id AND c.kind = 'review'), "
            f"COALESCE(w.actor_display, ''), COALESCE({self.json('w.decision_json', 'action')}, "
            f"''), COALESCE({self.json('w.decision_json', 'data', 'reason')}, ''), r.error "
            f"FROM runs r LEFT JOIN waits w ON w.token = {last} WHERE {where} "
            "ORDER BY r.created_at DESC, r.run_id DESC LIMIT ?"
        )

    def platform(self) -> str:
        return self.json("r.origin_json", "platform")

    def scope(self) -> str:
        return self.json("r.origin_json", "scope")

    def requester(self) -> str:
        return self.json("r.origin_json", "requester", "display")

    def topic(self) -> str:
        return self.json("r.checkpoint_json", "shared", "topic")

    def search(self) -> str:
        """Three placeholders (the same ``%needle%`` pattern): topic, requester, any draft."""
        like = "LIKE ? ESCAPE '\\'"
        draft = self.json("s.payload_json", "draft")
        return (
            f"(LOWER({self.topic()}) {like} OR LOWER({self.requester()}) {like} OR EXISTS "
            "(SELECT 1 FROM waits s WHERE s.run_id = r.run_id AND s.kind = 'review' "
            f"AND LOWER({draft}) {like}))"
        )

    # Stats over [since, until) ---------------------------------------------------------

    def requests(self) -> str:
        """``(day, platform, runs)`` for runs created in the range."""
        return self.q(
            f"SELECT {self.day('r.created_at')}, COALESCE({self.platform()}, ''), COUNT(*) "
            "FROM runs r WHERE r.created_at >= ? AND r.created_at < ? GROUP BY 1, 2 ORDER BY 1, 2"
        )

    def reviews(self) -> str:
        """``(status, action, reviews)`` for reviews opened in the range."""
        action = self.json("decision_json", "action")
        return self.q(
            f"SELECT status, COALESCE({action}, ''), COUNT(*) FROM waits "
            "WHERE kind = 'review' AND created_at >= ? AND created_at < ? GROUP BY 1, 2"
        )

    _DECIDED = "kind = 'review' AND status = 'decided' AND created_at >= ? AND created_at < ?"

    def decision_time(self) -> str:
        """The decision time at a rank (placeholders: since, until, offset)."""
        return self.q(
            "SELECT decided_at - created_at FROM waits "
            f"WHERE {self._DECIDED} ORDER BY 1 LIMIT 1 OFFSET ?"
        )

    def moderators(self) -> str:
        """``(name, decisions)``, most first (placeholders: since, until, limit)."""
        return self.q(
            "SELECT COALESCE(MAX(actor_display), actor), COUNT(*) FROM waits "
            f"WHERE {self._DECIDED} GROUP BY actor ORDER BY 2 DESC, 1 LIMIT ?"
        )

    def reasons(self) -> str:
        """``(reason, rejections)``, most first (placeholders: since, until, limit)."""
        reason = f"TRIM(COALESCE({self.json('decision_json', 'data', 'reason')}, ''))"
        action = self.json("decision_json", "action")
        return self.q(
            f"SELECT {reason}, COUNT(*) FROM waits "
            f"WHERE {self._DECIDED} AND {action} = 'reject' GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT ?"
        )

    def _drafts(self) -> str:
        """A CTE ``d(x)``: seconds each run of the drafting node took (since, until, node)."""
        cursor = self.json("data_json", "cursor")
        return (
            "WITH s AS (SELECT at, LAG(at) OVER w AS prev_at, "
            f"LAG({cursor}) OVER w AS prev_cursor FROM audit "
            "WHERE event = 'step' AND at >= ? AND at < ? "
            "WINDOW w AS (PARTITION BY run_id ORDER BY id)), "
            "d AS (SELECT at - prev_at AS x FROM s WHERE prev_cursor = ?) "
        )

    def drafting_times(self) -> str:
        """Every drafting time in the range, ascending (placeholders: since, until, node)."""
        return self.q(f"{self._drafts()}SELECT x FROM d ORDER BY x")

    def llm_failures(self) -> str:
        """``(day, failures)``: the flow's model-failure audit events (since, until, name)."""
        event = self.json("data_json", "event")
        return self.q(
            f"SELECT {self.day('at')}, COUNT(*) FROM audit "
            f"WHERE event = 'flow' AND at >= ? AND at < ? AND {event} = ? "
            "GROUP BY 1 ORDER BY 1"
        )
