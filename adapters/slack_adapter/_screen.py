"""``/joke screen …``: this workspace's own blocked words and classifier threshold (moderators).

The Slack counterpart of ``/jokeconfig``'s screen options on Discord:

- ``/joke screen``: show the settings;
- ``/joke screen block heck, dang*``: add blocked words (comma-separated; ``stem*`` for
  prefixes, ``two words`` for phrases);
- ``/joke screen unblock heck``: remove some;
- ``/joke screen threshold 0.4`` (lower is stricter) or ``/joke screen threshold default``.
"""

import logging
from dataclasses import replace

from adapters._review import GENERIC_FAILURE
from adapters._screen import add_words, describe, remove_words, split_words
from adapters.slack_adapter._config import PLATFORM, SlackConfig
from adapters.slack_adapter._inbound import Command
from adapters.slack_adapter._moderators import Moderators
from bot.errors import BadRequest
from bot.models import ScopeConfig
from bot.ports import EventSink

log = logging.getLogger(__name__)

SCREEN_WORD = "screen"
BLOCK, UNBLOCK, THRESHOLD, DEFAULT = "block", "unblock", "threshold", "default"
MODERATORS_ONLY = "Only jokebot's moderators can change its screen."
USAGE = (
    "Use `/joke screen` to see the screen, `/joke screen block word, stem*` or "
    "`/joke screen unblock word` for this workspace's blocked words, and "
    "`/joke screen threshold 0.4` (0.01 to 1, lower is stricter) or "
    "`/joke screen threshold default`."
)


def is_screen(command: Command) -> bool:
    """True for ``/joke screen`` and its subcommands ("/joke screen doors" is a topic)."""
    words = command.topic.split()
    if not words or words[0].lower() != SCREEN_WORD:
        return False
    return len(words) == 1 or words[1].lower() in (BLOCK, UNBLOCK, THRESHOLD)


async def screen(
    command: Command, sink: EventSink, moderators: Moderators, config: SlackConfig
) -> str:
    """What ``/joke screen …`` does, as the answer to show (never raises)."""
    if not await moderators.check(command.user_id):
        return MODERATORS_ONLY
    try:
        current = await sink.scope(PLATFORM, command.team_id)
        changed = _changed(command.topic.split(maxsplit=2)[1:], current, command, config)
        if changed is None:
            return describe(current)
        await sink.save_scope(changed)
        return f"Saved. {describe(changed)}"
    except BadRequest as exc:
        return f"{exc} Nothing was changed."
    except Exception:
        log.exception("%s: /joke screen failed for %s", PLATFORM, command.user_id)
        return GENERIC_FAILURE


def _changed(
    args: list[str], current: ScopeConfig | None, command: Command, config: SlackConfig
) -> ScopeConfig | None:
    """The settings after the subcommand in ``args``; None to only show them."""
    if not args:
        return None
    verb, rest = args[0].lower(), args[1] if len(args) > 1 else ""
    base = current or ScopeConfig(
        PLATFORM, command.team_id, config.mod_channel, config.public_channel
    )
    if verb == THRESHOLD:
        return _with_threshold(base, rest.strip())
    words = split_words(rest)
    if not words:
        raise BadRequest(USAGE)
    if verb == BLOCK:
        return replace(base, blocked_words=add_words(current, words))
    return replace(base, blocked_words=remove_words(current, words))


def _with_threshold(base: ScopeConfig, value: str) -> ScopeConfig:
    if value.lower() == DEFAULT:
        return replace(base, screen_threshold=None)
    try:
        threshold = float(value.replace(",", "."))
    except ValueError:
        raise BadRequest(USAGE) from None
    if not 0.01 <= threshold <= 1:
        raise BadRequest(USAGE)
    return replace(base, screen_threshold=threshold)
