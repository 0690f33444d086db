"""What the fake Discord remembers: messages, interactions, nonces, DM channels.

Methods return ``(status, body)`` the way the REST API would answer; no networking here.
"""

import itertools
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_discord._world import APP_ID, BOT_ID, iso, snowflake_at, user

Answer = tuple[int, Any]
UNKNOWN_INTERACTION: Answer = (404, {"code": 10062, "message": "Unknown interaction"})
UNKNOWN_MESSAGE: Answer = (404, {"code": 10008, "message": "Unknown Message"})
UNKNOWN_WEBHOOK: Answer = (404, {"code": 10015, "message": "Unknown Webhook"})
EPHEMERAL = 64


@dataclass
class PendingInteraction:
    """An interaction the fake dispatched and what became of it."""

    id: int
    token: str
    dispatched_at: float
    message_id: int | None
    channel_id: int
    responses: list[int] = field(default_factory=list)
    callback_at: float | None = None


class DiscordState:
    """Messages per channel (oldest first), interactions by id, nonce window, DMs."""

    def __init__(self, *, deadline_s: float, nonce_window_s: float) -> None:
        self.deadline_s = deadline_s
        self.nonce_window_s = nonce_window_s
        self.messages: dict[int, list[dict[str, Any]]] = {}
        self.interactions: dict[int, PendingInteraction] = {}
        self._by_token_map: dict[str, PendingInteraction] = {}
        self._by_id: dict[int, dict[str, Any]] = {}
        self.dm_blocked: set[int] = set()
        self.dm_channels: dict[int, int] = {}  # user id -> DM channel id
        self.history_includes_nonce = False  # Discord does not document nonce in REST history
        self._ids = itertools.count(1)
        self._nonces: dict[tuple[int, str], tuple[int, float]] = {}

    def new_id(self) -> int:
        """A fresh time-based snowflake."""
        return snowflake_at(time.time() * 1000, next(self._ids))

    def find(self, message_id: int) -> dict[str, Any] | None:
        """A stored message by id, in any channel."""
        return self._by_id.get(message_id)

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
            "timestamp": iso(time.time() * 1000),
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

    def _store(self, channel_id: int, msg: dict[str, Any]) -> None:
        if not msg["flags"] & EPHEMERAL:
            self.messages.setdefault(channel_id, []).append(msg)
            self._by_id[int(msg["id"])] = msg

    def register(self, payload: Mapping[str, Any], age_s: float) -> int:
        """Remember a dispatched interaction (``age_s`` backdates it)."""
        iid = int(payload.get("id", 0) or 0)
        message = payload.get("message")
        pending = PendingInteraction(
            id=iid,
            token=str(payload.get("token", "")),
            dispatched_at=time.monotonic() - age_s,
            message_id=int(message["id"]) if isinstance(message, Mapping) else None,
            channel_id=int(payload.get("channel_id", 0) or 0),
        )
        self.interactions[iid] = self._by_token_map[pending.token] = pending
        return iid

    def callback(self, iid: int, token: str, body: Mapping[str, Any]) -> Answer:
        """POST /interactions/{id}/{token}/callback: 3 s deadline, one acknowledgement."""
        pending = self.interactions.get(iid)
        now = time.monotonic()
        if pending is None or pending.token != token:
            return UNKNOWN_INTERACTION
        if pending.responses:
            return 400, {"code": 40060, "message": "Interaction has already been acknowledged."}
        if now - pending.dispatched_at > self.deadline_s:
            return UNKNOWN_INTERACTION
        kind, data = int(body["type"]), body.get("data") or {}
        pending.responses.append(kind)
        pending.callback_at = now
        resource: dict[str, Any] = {"type": kind}
        interaction = {"id": str(iid), "type": 2, "response_message_loading": kind == 5}
        if kind == 4:
            msg = self.new_message(pending.channel_id, data, BOT_ID)
            self._store(pending.channel_id, msg)
            resource["message"] = msg
            interaction["response_message_id"] = msg["id"]
        elif kind == 7 and pending.message_id is not None:
            self.apply_edit(pending.message_id, data)
        return 200, {"interaction": interaction, "resource": resource}

    def _by_token(self, token: str) -> PendingInteraction | None:
        return self._by_token_map.get(token)

    def followup(self, token: str, body: Mapping[str, Any]) -> Answer:
        """POST /webhooks/{app}/{token}: a followup message."""
        pending = self._by_token(token)
        if pending is None:
            return UNKNOWN_WEBHOOK
        msg = self.new_message(pending.channel_id, body, BOT_ID)
        msg["webhook_id"] = str(APP_ID)
        self._store(pending.channel_id, msg)
        return 200, msg

    def edit_webhook_message(self, token: str, target: str, body: Mapping[str, Any]) -> Answer:
        """PATCH /webhooks/{app}/{token}/messages/@original (the clicked card for components)."""
        pending = self._by_token(token)
        if pending is None:
            return UNKNOWN_WEBHOOK
        if target == "@original" and pending.message_id is not None:
            return self.edit(pending.message_id, body)
        return 200, self.new_message(pending.channel_id, body, BOT_ID)

    def create(self, channel_id: int, body: Mapping[str, Any], author: int = BOT_ID) -> Answer:
        """POST /channels/{id}/messages, with enforce_nonce dedupe and closed DMs."""
        blocked = {c for u, c in self.dm_channels.items() if u in self.dm_blocked}
        if channel_id in blocked:
            return 403, {"code": 50007, "message": "Cannot send messages to this user"}
        nonce = body.get("nonce")
        if nonce is not None and len(str(nonce)) > 25:
            return 400, {"code": 50035, "message": "Invalid Form Body (nonce: max 25)"}
        if nonce is not None and body.get("enforce_nonce"):
            seen = self._nonces.get((channel_id, str(nonce)))
            if seen is not None and time.monotonic() - seen[1] < self.nonce_window_s:
                existing = self.find(seen[0])
                if existing is not None:
                    return 200, existing
        msg = self.new_message(channel_id, body, author)
        self._store(channel_id, msg)
        if nonce is not None:
            self._nonces[(channel_id, str(nonce))] = (int(msg["id"]), time.monotonic())
        return 200, msg

    def apply_edit(self, message_id: int, body: Mapping[str, Any]) -> dict[str, Any] | None:
        """Apply the fields an edit sends (``components: []`` removes the buttons)."""
        msg = self.find(message_id)
        if msg is None:
            return None
        for name, empty in (("content", ""), ("embeds", []), ("components", [])):
            if name in body:
                msg[name] = body[name] if body[name] is not None else empty
        msg["edited_timestamp"] = iso(time.time() * 1000)
        return msg

    def edit(self, message_id: int, body: Mapping[str, Any]) -> Answer:
        """PATCH /channels/{id}/messages/{id}."""
        msg = self.apply_edit(message_id, body)
        return (200, msg) if msg else UNKNOWN_MESSAGE

    def get(self, message_id: int) -> Answer:
        """GET /channels/{id}/messages/{id}."""
        msg = self.find(message_id)
        return (200, self.public(msg)) if msg else UNKNOWN_MESSAGE

    def history(self, channel_id: int, query: Mapping[str, str]) -> list[dict[str, Any]]:
        """GET /channels/{id}/messages: newest first, ``before`` / ``after`` / ``limit``."""
        msgs = self.messages.get(channel_id, [])
        limit = int(query.get("limit", 50))
        if "before" in query:
            msgs = [m for m in msgs if int(m["id"]) < int(query["before"])]
        if "after" in query:
            msgs = [m for m in msgs if int(m["id"]) > int(query["after"])][:limit]
        return [self.public(m) for m in list(reversed(msgs))[:limit]]

    def open_dm(self, user_id: int) -> Answer:
        """POST /users/@me/channels."""
        channel_id = self.dm_channels.setdefault(user_id, self.new_id())
        recipients = [user(user_id)]
        return 200, {"id": str(channel_id), "type": 1, "recipients": recipients}
