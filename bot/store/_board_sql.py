"""Portable SQL for the console's reads (``?`` placeholders; PostgreSQL swaps in ``%s``).

The queue (review waits with their run's origin, newest activity first), one run's waits and
outbox rows, the audit log after a sequence number, and every route.
"""

from bot.store._rows import OUTBOX_COLS, WAIT_COLS

_W_COLS = ", ".join(f"w.{c.strip()}" for c in WAIT_COLS.split(","))

# activity: when the review was decided, else when its card was opened
REVIEWS = (
    f"SELECT {_W_COLS}, r.origin_json, r.status FROM waits w "  # noqa: S608
    "JOIN runs r ON r.run_id = w.run_id WHERE w.kind = 'review' AND w.status = ? "
    "AND COALESCE(w.decided_at, w.created_at) >= ? "
    "ORDER BY COALESCE(w.decided_at, w.created_at) DESC, w.token LIMIT ?"
)

RUN_WAITS = f"SELECT {WAIT_COLS} FROM waits WHERE run_id = ? ORDER BY seq, created_at"  # noqa: S608

RUN_EFFECTS = f"SELECT {OUTBOX_COLS} FROM outbox WHERE run_id = ? ORDER BY seq, n"  # noqa: S608

AUDIT_SINCE = (
    "SELECT id, run_id, at, actor, event, data_json FROM audit WHERE id > ? ORDER BY id LIMIT ?"
)

LAST_AUDIT = "SELECT MAX(id) FROM audit"

ALL_ROUTES = (
    "SELECT platform, scope, surface_platform, surface_channel FROM routes "
    "ORDER BY platform, scope, added_at, surface_platform, surface_channel"
)


def pg(sql: str) -> str:
    """``sql`` with PostgreSQL placeholders."""
    return sql.replace("?", "%s")
