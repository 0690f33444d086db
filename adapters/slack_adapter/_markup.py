"""Slack mrkdwn safety: escaping, the mentions we mean, text objects and Block Kit lengths.

Slack parses ``&``, ``<`` and ``>`` as control characters in message text and mrkdwn text
objects: ``<!here>``, ``<@U…>``, ``<#C…>``, ``<!subteam^S…>`` and ``<https://…|label>`` are live
only through them (docs.slack.dev, "Formatting message text → Escaping text"). So every user- or
moderator-supplied string is cleaned (:mod:`adapters._text`), entity-escaped and clipped here,
and every mrkdwn text object is ``verbatim`` (no automatic linking of URLs, channel names or
mentions); the only live markup left is a mention this adapter builds from a validated id.
"""

import re
from collections.abc import Iterable
from typing import Any

from adapters._text import ELLIPSIS, clean, one_line

Block = dict[str, Any]

TEXT_OBJECT_MAX = 3000  # a section's text, a context element (Block Kit)
MESSAGE_TEXT_MAX = 40_000  # chat.postMessage ``text``: msg_too_long beyond
NAME_MAX = 80  # a display name that is not a mention
_ENTITIES = {"&": "&amp;", "<": "&lt;", ">": "&gt;"}
_USER_ID = re.compile(r"[UW][A-Z0-9]{2,30}")
_CHANNEL_ID = re.compile(r"[CGD][A-Z0-9]{2,30}")
_MENTION = re.compile(r"<@([UW][A-Z0-9]{2,30})>")


def escape(text: str) -> str:
    """``&``, ``<`` and ``>`` as entities: the text shows literally and nothing in it is live."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def unescape(text: str) -> str:
    """Slack's three entities back to characters; ``&amp;`` last, so ``&amp;lt;`` gives ``&lt;``."""
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def escaped(text: str, limit: int = TEXT_OBJECT_MAX, *, multiline: bool = True) -> str:
    """``text`` cleaned, escaped and clipped so the *escaped* form fits ``limit``.

    The cut never splits an entity, and a cut text ends in ``…``.
    """
    source = clean(text) if multiline else one_line(text)
    full = escape(source)
    if len(full) <= limit:
        return full
    out: list[str] = []
    size = 0
    for ch in source:
        piece = _ENTITIES.get(ch, ch)
        if size + len(piece) > limit - 1:
            break
        out.append(piece)
        size += len(piece)
    return "".join(out).rstrip() + ELLIPSIS


def is_user_id(user_id: str) -> bool:
    """True for a Slack user id (``U…`` or ``W…``)."""
    return _USER_ID.fullmatch(user_id) is not None


def mention(user_id: str) -> str:
    """``<@U…>`` for a valid user id; anything else shows as escaped text."""
    return f"<@{user_id}>" if is_user_id(user_id) else escaped(user_id, NAME_MAX, multiline=False)


def user(display: str) -> str:
    """How to show an actor: our own ``<@U…>`` mention as is, any other name escaped.

    Cards and outcomes carry display names: on Slack those are mentions this adapter built,
    but a decision may come from another surface (a Discord or terminal name).
    """
    if _MENTION.fullmatch(display):
        return display
    return escaped(display, NAME_MAX, multiline=False) or "someone"


def channel(channel_id: str) -> str:
    """``<#C…>`` for a valid conversation id, else an empty string."""
    return f"<#{channel_id}>" if _CHANNEL_ID.fullmatch(channel_id) else ""


def revive(text: str, displays: Iterable[str]) -> str:
    """Escaped ``text`` with the intended mentions among ``displays`` made live again.

    For texts written around a mention (``… for <@U1>``): escape everything first, then put
    back exactly the mentions we meant, never one a user typed for someone else.
    """
    for display in displays:
        if _MENTION.fullmatch(display):
            text = text.replace(escape(display), display)
    return text


def mrkdwn(text: str) -> Block:
    """A ``verbatim`` mrkdwn text object: no auto-linking of URLs, channels or mentions."""
    return {"type": "mrkdwn", "text": text or " ", "verbatim": True}


def plain(text: str, limit: int = TEXT_OBJECT_MAX) -> Block:
    """A plain_text object (never parsed for markup) of cleaned, clipped text."""
    shown = clean(text)
    if len(shown) > limit:
        shown = shown[: limit - 1].rstrip() + ELLIPSIS
    return {"type": "plain_text", "text": shown or " ", "emoji": True}


def section(text: str) -> Block:
    """A section block of (already escaped) mrkdwn."""
    return {"type": "section", "text": mrkdwn(text)}
