"""Portable SQL for the boot-time card checks (``?`` placeholders; PostgreSQL swaps in ``%s``).

Both backends run the same statements: waits of kind ``review`` that may need their cards
re-posted (pending) or brought up to date (closed), and the updates queued for one wait.
"""

from bot.store._rows import OUTBOX_COLS, WAIT_COLS

_W_COLS = ", ".join(f"w.{c.strip()}" for c in WAIT_COLS.split(","))

PENDING_REVIEWS = (
    f"SELECT {_W_COLS} FROM waits w WHERE w.status = 'pending' AND w.kind = 'review' "  # noqa: S608
    "ORDER BY w.created_at, w.token LIMIT ?"
)

# a closed review with a card on show and no update queued for it, or one that failed
CLOSED_REVIEWS_TO_UPDATE = (
    f"SELECT {_W_COLS} FROM waits w WHERE w.status IN ('decided', 'expired') "  # noqa: S608
    "AND w.kind = 'review' AND EXISTS (SELECT 1 FROM outbox p WHERE p.token = w.token "
    "AND p.kind = 'review.post' AND p.status = 'done') AND (NOT EXISTS (SELECT 1 FROM outbox u "
    "WHERE u.token = w.token AND u.kind = 'review.update') OR EXISTS (SELECT 1 FROM outbox f "
    "WHERE f.token = w.token AND f.kind = 'review.update' AND f.status = 'failed')) "
    "ORDER BY w.decided_at DESC, w.token LIMIT ?"
)

CARD_UPDATES = (
    f"SELECT {OUTBOX_COLS} FROM outbox WHERE token = ? AND kind = 'review.update' "  # noqa: S608
    "ORDER BY seq, n"
)


def pg(sql: str) -> str:
    """``sql`` with PostgreSQL placeholders."""
    return sql.replace("?", "%s")
