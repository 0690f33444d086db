"""``/joke setup #mods #jokes``: a workspace's own review and public channels (multi-workspace).

With one bot token the channels are ``SLACK_MOD_CHANNEL`` / ``SLACK_PUBLIC_CHANNEL``; a bot
installed into many workspaces has none until a moderator of each names them. They are the
workspace's scope settings (the same record Discord's ``/jokeconfig`` writes; the screen's words
and threshold are kept).
"""

import logging
import re
from dataclasses import replace

from adapters._review import GENERIC_FAILURE
from adapters.slack_adapter._config import PLATFORM, SlackConfig
from adapters.slack_adapter._inbound import Command
from adapters.slack_adapter._moderators import Moderators
from bot.errors import BadRequest
from bot.models import ScopeConfig
from bot.ports import EventSink

log = logging.getLogger(__name__)

SETUP_WORD = "setup"
MODERATORS_ONLY = "Only jokebot's moderators can choose its channels."
SINGLE = (
    "This jokebot serves one workspace: its channels are SLACK_MOD_CHANNEL and "
    "SLACK_PUBLIC_CHANNEL in its settings."
)
USAGE = (
    "Use `/joke setup #moderators #jokes`: cards go to the first channel, approved jokes to "
    "the second (invite the bot to both with `/invite @jokebot`)."
)
# what Slack sends for a channel mention, or a plain channel id
_CHANNEL = re.compile(r"<#([CG][A-Z0-9]{2,})(?:\|[^>]*)?>|([CG][A-Z0-9]{2,})")


def is_setup(command: Command) -> bool:
    """True for ``/joke setup …`` with at most two more words ("setup" alone is a topic)."""
    words = command.topic.split()
    return 2 <= len(words) <= 3 and words[0].lower() == SETUP_WORD


def channel_id(word: str) -> str:
    """The channel id in a mention (``<#C123|mods>``) or a bare id; BadRequest otherwise."""
    found = _CHANNEL.fullmatch(word)
    if found is None:
        raise BadRequest(USAGE)
    return found.group(1) or found.group(2)


async def setup(
    command: Command, sink: EventSink, moderators: Moderators, config: SlackConfig
) -> str:
    """What ``/joke setup`` does, as the answer to show (never raises)."""
    if not config.multi_workspace:
        return SINGLE
    if not await moderators.check(command.user_id):
        return MODERATORS_ONLY
    try:
        words = command.topic.split()
        if len(words) != 3:
            raise BadRequest(USAGE)
        mod, public = channel_id(words[1]), channel_id(words[2])
        current = await sink.scope(PLATFORM, command.team_id)
        base = current or ScopeConfig(PLATFORM, command.team_id, mod, public)
        await sink.save_scope(replace(base, mod_channel=mod, public_channel=public))
    except BadRequest as exc:
        return str(exc)
    except Exception:
        log.exception("%s: /joke setup failed for %s", PLATFORM, command.user_id)
        return GENERIC_FAILURE
    return f"Saved: review cards go to channel {mod}, approved jokes to channel {public}."
