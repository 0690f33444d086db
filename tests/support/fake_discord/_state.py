"""What the fake Discord remembers: channels, messages, permissions, nonces, DM channels.

Methods return ``(status, body)`` the way the REST API would answer; no networking here. Each
rule names the Discord behaviour it models; :mod:`._rules` holds the body limits.
"""

import itertools
import time
from collections.abc import Mapping
from typing import Any

from tests.support.fake_discord._perms import READ_HISTORY, SEND, SEND_IN_THREADS, VIEW
from tests.support.fake_discord._rules import EMPTY_MESSAGE, Answer, check_message, is_empty
from tests.support.fake_discord._world import (
    APP_ID,
    BOT_ID,
    GENERAL_THREAD,
    GUILD_CHANNELS,
    guild_permissions,
    iso,
    snowflake_at,
    user,
)

UNKNOWN_CHANNEL: Answer = (404, {"code": 10003, "message": "Unknown Channel"})
UNKNOWN_MESSAGE: Answer = (404, {"code": 10008, "message": "Unknown Message"})
MISSING_ACCESS: Answer = (403, {"code": 50001, "message": "Missing Access"})
MISSING_PERMISSIONS: Answer = (403, {"code": 50013, "message": "Missing Permissions"})
DMS_CLOSED: Answer = (403, {"code": 50007, "message": "Cannot send messages to this user"})
NOT_AUTHOR: Answer = (
    403,
    {"code": 50005, "message": "Cannot edit a message authored by another user"},
)
EPHEMERAL = 64


class FakeTime:
    """The fake's wall clock: real time plus an offset tests may advance (no sleeping)."""

    def __init__(self) -> None:
        self.offset = 0.0

    def now(self) -> float:
        return time.time() + self.offset

    def advance(self, seconds: float) -> None:
        self.offset += seconds


class DiscordState:
    """Messages per channel (oldest first), permissions, the nonce window and DMs."""

    def __init__(self, *, nonce_window_s: float, bot_permissions: int | None = None) -> None:
        self.clock = FakeTime()
        self.nonce_window_s = nonce_window_s
        self.perms = (
            guild_permissions() if bot_permissions is None else guild_permissions(bot_permissions)
        )
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self._by_id: dict[int, dict[str, Any]] = {}
        self.dm_blocked: set[int] = set()
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.history_includes_nonce = False  # Discord does not document nonce in REST history
        self._ids = itertools.count(1)
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}

    def new_id(self) -> int:
        """A fresh snowflake at the fake's time."""
        return snowflake_at(self.clock.now() * 1000, next(self._ids))

    def find(self, message_id: int) -> dict[str, Any] | None:
        """A stored message by id, in any channel."""
        return self._by_id.get(message_id)

    def kind(self, channel_id: int) -> str | None:
        """``guild``, ``thread`` or ``dm``; None for a channel Discord does not know."""
        if channel_id in GUILD_CHANNELS:
            return "guild"
        if channel_id == GENERAL_THREAD:
            return "thread"
        return "dm" if channel_id in self.dm_channels.values() else None

    def access(self, channel_id: int, user_id: int, need: int) -> Answer | None:
        """The refusal for ``user_id`` lacking ``need`` in a channel, or None.

        Unknown channels are 10003; without View Channel everything is 50001 Missing Access;
        any other missing bit is 50013 Missing Permissions. DMs have no permissions.
        """
        where = self.kind(channel_id)
        if where is None:
            return UNKNOWN_CHANNEL
        if where == "dm":
            return None
        have = self.perms.in_channel(user_id, channel_id)
        if not have & VIEW:
            return MISSING_ACCESS
        return None if have & need == need else MISSING_PERMISSIONS

    def new_message(self, channel_id: int, body: Mapping[str, Any], author: int) -> dict[str, Any]:
        """A message object as Discord returns it (not stored)."""
        return {
            "id": str(self.new_id()),
            "type": 0,
            "channel_id": str(channel_id),
            "author": user(author),
            "content": body.get("content") or "",
            "embeds": body.get("embeds") or [],
            "components": body.get("components") or [],
            "flags": body.get("flags") or 0,
            "timestamp": iso(self.clock.now() * 1000),
            "edited_timestamp": None,
            "tts": False,
            "mention_everyone": False,
            "mentions": [],
            "mention_roles": [],
            "attachments": [],
            "pinned": False,
            "nonce": body.get("nonce"),
            "application_id": str(APP_ID) if author == BOT_ID else None,
        }

    def public(self, msg: Mapping[str, Any]) -> dict[str, Any]:
        """A stored message as REST history shows it."""
        out = dict(msg)
        if not self.history_includes_nonce:
            out.pop("nonce", None)
        return out

    def store(self, channel_id: int, msg: dict[str, Any]) -> None:
        """Keep a created message (ephemerals are never visible in the channel)."""
        if not msg["flags"] & EPHEMERAL:
            self.messages.setdefault(channel_id, []).append(msg)
            self._by_id[int(msg["id"])] = msg

    def create(self, channel_id: int, body: Mapping[str, Any], author: int = BOT_ID) -> Answer:
        """POST /channels/{id}/messages: permissions, limits, closed DMs, enforce_nonce dedupe."""
        # Posting needs Send Messages, in a thread Send Messages in Threads instead.
        need = VIEW | (SEND_IN_THREADS if self.kind(channel_id) == "thread" else SEND)
        if (refused := self.access(channel_id, author, need)) is not None:
            return refused
        blocked = {c for u, c in self.dm_channels.items() if u in self.dm_blocked}
        if channel_id in blocked:
            return DMS_CLOSED  # the user does not accept DMs from this server's members
        if (invalid := check_message(body, create=True)) is not None:
            return invalid
        nonce = body.get("nonce")
        if nonce is not None and body.get("enforce_nonce"):
            # The same author and nonce "in the past few minutes" returns the first message.
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen is not None and self.clock.now() - seen[1] < self.nonce_window_s:
                existing = self.find(seen[0])
                if existing is not None:
                    return 200, existing
        msg = self.new_message(channel_id, body, author)
        self.store(channel_id, msg)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (int(msg["id"]), self.clock.now())
        return 200, msg

    def apply_edit(self, message_id: int, body: Mapping[str, Any]) -> Answer:
        """Apply the fields an edit sends (``components: []`` removes the buttons)."""
        msg = self.find(message_id)
        if msg is None:
            return UNKNOWN_MESSAGE
        if (invalid := check_message(body, create=False)) is not None:
            return invalid
        edited = dict(msg)
        for name, empty in (("content", ""), ("embeds", []), ("components", [])):
            if name in body:
                edited[name] = body[name] if body[name] is not None else empty
        if is_empty(edited):
            return EMPTY_MESSAGE  # an edit may not leave the message with nothing in it
        msg.update(edited, edited_timestamp=iso(self.clock.now() * 1000))
        return 200, msg

    def edit(self, channel_id: int, message_id: int, body: Mapping[str, Any]) -> Answer:
        """PATCH /channels/{id}/messages/{id}: only the author may edit."""
        if (refused := self.access(channel_id, BOT_ID, VIEW)) is not None:
            return refused
        msg = self.find(message_id)
        if msg is None or msg["channel_id"] != str(channel_id):
            return UNKNOWN_MESSAGE
        if msg["author"]["id"] != str(BOT_ID):
            return NOT_AUTHOR
        return self.apply_edit(message_id, body)

    def get(self, channel_id: int, message_id: int) -> Answer:
        """GET /channels/{id}/messages/{id}: needs View Channel and Read Message History."""
        if (refused := self.access(channel_id, BOT_ID, VIEW | READ_HISTORY)) is not None:
            return refused
        msg = self.find(message_id)
        if msg is None or msg["channel_id"] != str(channel_id):
            return UNKNOWN_MESSAGE
        return 200, self.public(msg)

    def history(self, channel_id: int, query: Mapping[str, str]) -> Answer:
        """GET /channels/{id}/messages: newest first, ``before`` / ``after`` / ``limit``.

        Without Read Message History Discord answers 200 with no messages, not an error.
        """
        if (refused := self.access(channel_id, BOT_ID, VIEW)) is not None:
            return refused
        readable = self.perms.in_channel(BOT_ID, channel_id) & READ_HISTORY
        if self.kind(channel_id) != "dm" and not readable:
            return 200, []
        msgs = self.messages.get(channel_id, [])
        limit = min(int(query.get("limit", 50)), 100)
        if "before" in query:
            msgs = [m for m in msgs if int(m["id"]) < int(query["before"])]
        if "after" in query:
            msgs = [m for m in msgs if int(m["id"]) > int(query["after"])][:limit]
        return 200, [self.public(m) for m in list(reversed(msgs))[:limit]]

    def open_dm(self, user_id: int) -> Answer:
        """POST /users/@me/channels."""
        channel_id = self.dm_channels.setdefault(user_id, self.new_id())
        recipients = [user(user_id)]
        return 200, {"id": str(channel_id), "type": 1, "recipients": recipients}
