"""``/joke link [CODE]``: review this workspace's jokes on another platform too, or another's here.

``/joke link`` (moderators only) shows a one-time code for this workspace, to type on the other
platform (``/jokelink code:CODE`` in a Discord channel). ``/joke link CODE`` makes the channel
it is typed in a review surface of the scope the code was made for.
"""

import logging

from adapters._review import GENERIC_FAILURE
from adapters.slack_adapter._config import PLATFORM
from adapters.slack_adapter._inbound import Command
from adapters.slack_adapter._moderators import Moderators
from bot.errors import BadRequest
from bot.models import Surface
from bot.ports import EventSink

log = logging.getLogger(__name__)

LINK_WORD = "link"
MODERATORS_ONLY = "Only jokebot's moderators can link it to another platform."


def is_link(command: Command) -> bool:
    """True for ``/joke link`` and ``/joke link CODE`` (a topic can't start with the word)."""
    words = command.topic.split()
    return bool(words) and words[0].lower() == LINK_WORD and len(words) <= 2


def code_text(code: str) -> str:
    """What the moderator is told with a fresh code."""
    return (
        f"Link code *{code}* (one use, valid 10 minutes). In the Discord channel where "
        f"moderators should also review this workspace's jokes, run `/jokelink code:{code}`."
    )


async def link(command: Command, sink: EventSink, moderators: Moderators) -> str:
    """What ``/joke link [CODE]`` does, as the answer to show (never raises)."""
    if not await moderators.check(command.user_id):
        return MODERATORS_ONLY
    words = command.topic.split()
    try:
        if len(words) == 1:
            made = await sink.link_code(PLATFORM, command.team_id)
            return code_text(made.code)
        return await sink.link(words[1], Surface(PLATFORM, command.channel_id))
    except BadRequest as exc:
        return str(exc)
    except Exception:
        log.exception("%s: /joke link failed for %s", PLATFORM, command.user_id)
        return GENERIC_FAILURE
