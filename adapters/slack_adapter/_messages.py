"""What jokebot posts on Slack besides cards: the public joke, notices, alerts, answers.

Each renderer returns ``(text, blocks)``: the blocks are what Slack shows (mrkdwn objects are
``verbatim``, so nothing is auto-linked), ``text`` the notification fallback. Both are escaped;
the only live markup is a mention we meant, put back after escaping (:func:`revive`).
"""

from adapters._review import StatusStyle, relative, status_text
from adapters.slack_adapter._buttons import Block
from adapters.slack_adapter._config import PLATFORM
from adapters.slack_adapter._markup import (
    TEXT_OBJECT_MAX,
    channel,
    escaped,
    mrkdwn,
    revive,
    section,
    user,
)
from bot.models import Origin, PublishPayload, StatusReport

JOKE_MAX = 2500  # the public post: joke + credit line within one 3000-char section
TOPIC_MAX = 200


def publish(joke: PublishPayload, origin: Origin) -> tuple[str, list[Block]]:
    """The approved joke for the public channel, crediting the requester."""
    requester = user(str(joke.get("requester") or origin.requester.display))
    text = escaped(str(joke.get("text", "")), JOKE_MAX)
    topic = escaped(str(joke.get("topic", "")), TOPIC_MAX, multiline=False)
    body = f"{text}\n— requested by {requester}, about “{topic}”"
    return body, [section(body)]


def notice(text: str, origin: Origin, *, by_dm: bool) -> tuple[str, list[Block]]:
    """A notice to the requester; the blocks say how it reached them.

    By DM it names the channel the request came from; as an ephemeral (when no DM was
    possible) it says that only they see it and that Slack may drop it on reload.
    """
    body = escaped(text, TEXT_OBJECT_MAX - 200) or "(no text)"
    if by_dm:
        where = channel(origin.reply_channel)
        how = f"About your /joke request{f' in {where}' if where else ''}."
    else:
        how = "Only you can see this; Slack may drop it when the app reloads."
    return body, [section(body), {"type": "context", "elements": [mrkdwn(how)]}]


def alert(text: str, origin: Origin) -> tuple[str, list[Block]]:
    """A warning for the moderators; a Slack requester's mention in it stays a mention.

    A request from another platform names its requester as text: whatever their name looks
    like there (a Discord name may read ``<@U0ADMIN1>``), it never becomes a mention here.
    """
    ours = [origin.requester.display] if origin.platform == PLATFORM else []
    body = "⚠️ " + revive(escaped(text, TEXT_OBJECT_MAX - 10), ours)
    return body, [section(body)]


def answer(text: str, mentions: tuple[str | None, ...] = ()) -> str:
    """An answer to one person (ephemeral, ack, DM): escaped, the given mentions kept."""
    return revive(escaped(text, TEXT_OBJECT_MAX), [m for m in mentions if m])


# topics escaped; times as Slack dates, shown in each reader's time zone (fallback: relative)
_STATUS = StatusStyle(
    quote=lambda topic: escaped(topic, TOPIC_MAX, multiline=False),
    when=lambda at, now: f"<!date^{int(at)}^{{date_short_pretty}} at {{time}}|{relative(at, now)}>",
)


def status_answer(report: StatusReport) -> str:
    """``/joke status`` as the text of an ephemeral answer (every topic in it escaped)."""
    return status_text(report, _STATUS)
