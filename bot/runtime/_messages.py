"""What a clicker is told: one human sentence per decide outcome."""

from datetime import UTC, datetime

FORBIDDEN = "Only moderators can decide on jokes."
NOT_FOUND = "This review no longer exists."
DUPLICATE = "This click was already received; nothing more to do."
REPLACED = "This draft was replaced by a newer one"

_DONE = {
    "approve": "approved",
    "reject": "rejected",
    "edit": "edited and approved",
    "timeout": "expired",
    "cancel": "cancelled",
    "retry": "retried",
}
_APPLIED = {
    "approve": "Approved.",
    "reject": "Rejected.",
    "edit": "Edited and approved.",
    "cancel": "Cancelled.",
    "retry": "Retrying.",
}


def at(ts: float | None) -> str:
    """``14:02 UTC`` for a timestamp (empty if None)."""
    if ts is None:
        return ""
    return datetime.fromtimestamp(ts, UTC).strftime("%H:%M UTC")


def done(action: str) -> str:
    """The past tense of a decision, e.g. ``approved``."""
    return _DONE.get(action, f"decided ({action})")


def applied(action: str) -> str:
    """The answer to the click that won."""
    return _APPLIED.get(action, f"Recorded: {action}.")


def already(action: str, by: str, ts: float | None) -> str:
    """``Already approved by @alice at 14:02 UTC``."""
    return f"Already {done(action)} by {by} at {at(ts)}"


def replaced(action: str, by: str, ts: float | None) -> str:
    """The answer on an old card whose run moved on to a newer draft."""
    return f"{REPLACED} (this one was {done(action)} by {by} at {at(ts)})."


def closed(action: str, by: str, ts: float | None) -> str:
    """The answer on a card whose run has finished."""
    return f"This review is closed: {done(action)} by {by} at {at(ts)}."


def expired(ts: float | None) -> str:
    """The answer on a card whose wait ran out."""
    return f"This review expired at {at(ts)}; no decision can be made on it any more."


def missing(action: str, keys: list[str]) -> str:
    """The answer to a decision that lacks the data its action needs (an edit without text)."""
    return f"Nothing was changed: {action} needs {' and '.join(keys)}."


def not_allowed(action: str, allowed: tuple[str, ...]) -> str:
    """The answer to an action this wait does not take."""
    return f"{action!r} is not possible here; choose one of: {', '.join(allowed)}."
