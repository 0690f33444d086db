"""The screen settings of a scope as every platform's commands read and show them.

Moderators give blocked words as one comma-separated text (``heck, dang*, two words``); the
service tidies and checks them (:func:`bot.service.check_scope`). ``-`` alone clears them.
"""

from collections.abc import Iterable

from adapters._text import one_line
from bot.models import ScopeConfig

CLEAR = "-"


def split_words(text: str) -> tuple[str, ...]:
    """The blocked words in a comma-separated ``text``; ``-`` (or nothing) is none."""
    if text.strip() == CLEAR:
        return ()
    return tuple(w for w in (one_line(part) for part in text.split(",")) if w)


def add_words(config: ScopeConfig | None, words: Iterable[str]) -> tuple[str, ...]:
    """The scope's blocked words with ``words`` added (in order, without repeats)."""
    have = config.blocked_words if config else ()
    return tuple(dict.fromkeys([*have, *(w.lower() for w in words)]))


def remove_words(config: ScopeConfig | None, words: Iterable[str]) -> tuple[str, ...]:
    """The scope's blocked words without ``words``."""
    gone = {w.lower() for w in words}
    return tuple(w for w in (config.blocked_words if config else ()) if w not in gone)


def describe(config: ScopeConfig | None) -> str:
    """One line on the scope's screen: its blocked words and its classifier threshold.

    Plain text with the moderators' own words in it: each platform escapes it as an answer.
    """
    words = config.blocked_words if config else ()
    threshold = config.screen_threshold if config else None
    listed = ", ".join(f"“{w}”" for w in words) if words else "none"
    level = f"{threshold:g}" if threshold is not None else "the bot's default"
    return (
        f"Screen: your blocked words (on top of the bot's list): {listed}; "
        f"classifier threshold: {level} (lower is stricter)."
    )
