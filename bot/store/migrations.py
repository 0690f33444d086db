"""Versioned schema migrations: ordered steps, each applied once in its own transaction.

Never edit a released step; add a new one. ``schema_version`` records every applied step, so a
database created by any earlier version upgrades in order on open. Each step carries its SQL
for every dialect: SQLite here, PostgreSQL in ``_pg_schema.py``.
"""

from collections.abc import Collection
from dataclasses import dataclass
from typing import Literal

from bot.store import _pg_schema as pg

Dialect = Literal["sqlite", "postgres"]


@dataclass(frozen=True)
class Migration:
    """One schema step: the version it produces and, per dialect, the statements that get there."""

    version: int
    description: str
    sqlite: tuple[str, ...]
    postgres: tuple[str, ...]

    def statements(self, dialect: Dialect) -> tuple[str, ...]:
        """This step's statements in ``dialect``."""
        return self.sqlite if dialect == "sqlite" else self.postgres


_V1 = Migration(
    1,
    "runs, waits, inbox, outbox, audit",
    (
        """CREATE TABLE runs (
            run_id TEXT PRIMARY KEY,
            flow TEXT NOT NULL,
            origin_json TEXT NOT NULL,
            status TEXT NOT NULL,
            cursor TEXT NOT NULL,
            seq INTEGER NOT NULL,
            checkpoint_json TEXT NOT NULL,
            decision_json TEXT,
            wait_token TEXT,
            runner_id TEXT,
            lease_until REAL,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)""",
        "CREATE INDEX runs_runnable ON runs(status) WHERE status IN ('running', 'resuming')",
        """CREATE TABLE waits (
            token TEXT PRIMARY KEY,
            run_id TEXT NOT NULL REFERENCES runs(run_id),
            seq INTEGER NOT NULL,
            kind TEXT NOT NULL,
            allowed_json TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            on_timeout TEXT NOT NULL,
            status TEXT NOT NULL,
            decision_json TEXT,
            actor TEXT,
            actor_display TEXT,
            decided_at REAL,
            expires_at REAL,
            created_at REAL NOT NULL)""",
        "CREATE INDEX waits_expiry ON waits(status, expires_at)",
        "CREATE INDEX waits_run ON waits(run_id)",
        """CREATE TABLE inbox (
            platform TEXT NOT NULL,
            interaction_id TEXT NOT NULL,
            token TEXT NOT NULL,
            received_at REAL NOT NULL,
            result TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (platform, interaction_id)) WITHOUT ROWID""",
        """CREATE TABLE outbox (
            effect_id TEXT PRIMARY KEY,
            run_id TEXT NOT NULL,
            seq INTEGER NOT NULL,
            n INTEGER NOT NULL,
            kind TEXT NOT NULL,
            payload_json TEXT NOT NULL,
            dedupe_key TEXT NOT NULL,
            token TEXT,
            status TEXT NOT NULL,
            attempts INTEGER NOT NULL DEFAULT 0,
            next_attempt_at REAL NOT NULL,
            platform_ref TEXT,
            last_error TEXT NOT NULL DEFAULT '',
            claimed_by TEXT,
            created_at REAL NOT NULL,
            updated_at REAL NOT NULL)""",
        """CREATE INDEX outbox_open ON outbox(run_id, seq, n)
            WHERE status IN ('pending', 'in_flight')""",
        "CREATE INDEX outbox_token ON outbox(token, kind) WHERE token IS NOT NULL",
        """CREATE TABLE audit (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL,
            at REAL NOT NULL,
            actor TEXT NOT NULL,
            event TEXT NOT NULL,
            data_json TEXT NOT NULL)""",
        "CREATE INDEX audit_run ON audit(run_id, id)",
    ),
    pg.V1,
)

_V2 = Migration(
    2,
    "scopes; runs.error; pending-only expiry index",
    (
        """CREATE TABLE scopes (
            platform TEXT NOT NULL,
            scope TEXT NOT NULL,
            mod_channel TEXT NOT NULL,
            public_channel TEXT NOT NULL,
            moderator_role TEXT NOT NULL DEFAULT '',
            PRIMARY KEY (platform, scope)) WITHOUT ROWID""",
        "ALTER TABLE runs ADD COLUMN error TEXT NOT NULL DEFAULT ''",
        # decided waits pile up forever; the timer only ever looks at pending ones
        "DROP INDEX waits_expiry",
        """CREATE INDEX waits_pending_expiry ON waits(expires_at)
            WHERE status = 'pending' AND expires_at IS NOT NULL""",
    ),
    pg.V2,
)

_V3 = Migration(
    3,
    "waits.needs_json: the decision data each action needs",
    (
        "ALTER TABLE waits ADD COLUMN needs_json TEXT NOT NULL DEFAULT '{}'",
        # waits opened before this step are the joke flow's reviews, whose edit needs text
        """UPDATE waits SET needs_json = '{"edit": ["text"]}'
            WHERE kind = 'review' AND allowed_json LIKE '%"edit"%'""",
    ),
    pg.V3,
)

_V4 = Migration(
    4,
    "routes (a scope's review surfaces on other platforms) and single-use link codes",
    (
        """CREATE TABLE routes (
            platform TEXT NOT NULL,
            scope TEXT NOT NULL,
            surface_platform TEXT NOT NULL,
            surface_channel TEXT NOT NULL,
            added_at REAL NOT NULL,
            PRIMARY KEY (platform, scope, surface_platform, surface_channel)) WITHOUT ROWID""",
        """CREATE TABLE link_codes (
            code TEXT PRIMARY KEY,
            platform TEXT NOT NULL,
            scope TEXT NOT NULL,
            expires_at REAL NOT NULL) WITHOUT ROWID""",
    ),
    pg.V4,
)

_V5 = Migration(
    5,
    "duties: singleton duties (expiry sweep, pruning) behind a lease row",
    (
        """CREATE TABLE duties (
            name TEXT PRIMARY KEY,
            holder TEXT NOT NULL,
            lease_until REAL NOT NULL) WITHOUT ROWID""",
    ),
    pg.V5,
)

_V6 = Migration(
    6,
    "requests: every accepted request (per-user cooldown, per-scope queue, status)",
    (
        """CREATE TABLE requests (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            run_id TEXT NOT NULL UNIQUE,
            flow TEXT NOT NULL,
            platform TEXT NOT NULL,
            scope TEXT NOT NULL,
            requester TEXT NOT NULL,
            topic TEXT NOT NULL,
            origin_json TEXT NOT NULL,
            shared_json TEXT NOT NULL,
            max_active INTEGER NOT NULL,
            state TEXT NOT NULL,
            requested_at REAL NOT NULL,
            admitted_at REAL,
            done_at REAL)""",
        # the queue and the slots of a scope: only open requests are indexed
        """CREATE INDEX requests_open ON requests(platform, scope, state, id)
            WHERE state IN ('queued', 'active')""",
        "CREATE INDEX requests_requester ON requests(requester, id)",
    ),
    pg.V6,
)

_V7 = Migration(
    7,
    "slack_installations (multi-workspace OAuth installs, rotating tokens) and oauth_states",
    (
        """CREATE TABLE slack_installations (
            enterprise_id TEXT NOT NULL,
            team_id TEXT NOT NULL,
            bot_token TEXT NOT NULL,
            bot_id TEXT NOT NULL,
            bot_user_id TEXT NOT NULL,
            scopes TEXT NOT NULL,
            refresh_token TEXT NOT NULL,
            expires_at REAL,
            app_id TEXT NOT NULL,
            team_name TEXT NOT NULL,
            installer_id TEXT NOT NULL,
            is_enterprise_install INTEGER NOT NULL,
            installed_at REAL NOT NULL,
            PRIMARY KEY (enterprise_id, team_id)) WITHOUT ROWID""",
        """CREATE TABLE oauth_states (
            state TEXT PRIMARY KEY,
            expires_at REAL NOT NULL) WITHOUT ROWID""",
    ),
    pg.V7,
)

_V8 = Migration(
    8,
    "scopes: the screen's per-scope blocked words and classifier threshold",
    (
        "ALTER TABLE scopes ADD COLUMN blocked_words_json TEXT NOT NULL DEFAULT '[]'",
        "ALTER TABLE scopes ADD COLUMN screen_threshold REAL",
    ),
    pg.V8,
)

_V10 = Migration(
    10,
    "indexes for the console's queue, history and stats (runs by creation, reviews, audit)",
    (
        "CREATE INDEX runs_created ON runs(created_at, run_id)",
        "CREATE INDEX waits_review_created ON waits(created_at) WHERE kind = 'review'",
        "CREATE INDEX audit_event_at ON audit(event, at)",
        # the console's queue: one status, newest activity first (bot/store/_board_sql.REVIEWS)
        """CREATE INDEX waits_review_activity ON waits(status, (COALESCE(decided_at, created_at)))
            WHERE kind = 'review'""",
    ),
    pg.V10,
)

# 9 was never used (it was set aside for work that needed no schema change)
MIGRATIONS: tuple[Migration, ...] = (_V1, _V2, _V3, _V4, _V5, _V6, _V7, _V8, _V10)
LATEST = MIGRATIONS[-1].version

SCHEMA_VERSION_TABLE = """CREATE TABLE IF NOT EXISTS schema_version (
    version INTEGER PRIMARY KEY,
    description TEXT NOT NULL,
    applied_at REAL NOT NULL)"""
SCHEMA_VERSION_TABLE_PG = pg.SCHEMA_VERSION_TABLE


def pending(
    current: int, target: int = LATEST, applied: Collection[int] | None = None
) -> list[Migration]:
    """The steps that take a database from ``current`` to ``target``, in order.

    With ``applied`` (every version in ``schema_version``), also the steps below ``current``
    that it lacks: work merged in a different order than numbered (v8 released before v6)
    still gets every step. Steps are independent of the ones numbered after them.
    """
    if current > LATEST:
        raise RuntimeError(
            f"database schema version {current} is newer than this code ({LATEST}); upgrade jokebot"
        )
    if applied is None:
        return [m for m in MIGRATIONS if current < m.version <= target]
    return [m for m in MIGRATIONS if m.version not in applied and m.version <= target]
