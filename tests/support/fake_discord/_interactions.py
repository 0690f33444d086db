"""Interactions the fake dispatched: callbacks, followups and edits, with Discord's clocks.

The initial response must arrive within 3 s of the interaction's creation (its snowflake
time), once; the token then works for followups and edits for 15 minutes. Both are measured
on the fake's clock (:class:`._state.FakeTime`), so tests can expire tokens without sleeping.
"""

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from tests.support.fake_discord._rules import (
    Answer,
    check_message,
    form_error,
    modal_errors,
    response_type_error,
)
from tests.support.fake_discord._state import DiscordState
from tests.support.fake_discord._world import APP_ID, BOT_ID, DISCORD_EPOCH_MS

UNKNOWN_INTERACTION: Answer = (404, {"code": 10062, "message": "Unknown interaction"})
UNKNOWN_WEBHOOK: Answer = (404, {"code": 10015, "message": "Unknown Webhook"})
ALREADY_ACKED: Answer = (
    400,
    {"code": 40060, "message": "Interaction has already been acknowledged."},
)
EXPIRED_TOKEN: Answer = (401, {"code": 50027, "message": "Invalid Webhook Token"})
TOKEN_LIFETIME_S = 15 * 60


def created_at(snowflake: int) -> float:
    """Unix seconds a snowflake was made at."""
    return ((snowflake >> 22) + DISCORD_EPOCH_MS) / 1000


@dataclass
class PendingInteraction:
    """An interaction the fake dispatched and what became of it."""

    id: int
    token: str
    kind: int  # the interaction type: 2 command, 3 component, 5 modal submit
    created_at: float  # from the snowflake, on the fake's clock
    dispatched_at: float  # time.monotonic() when sent on the gateway (for latency figures)
    message_id: int | None
    channel_id: int
    responses: list[int] = field(default_factory=list)
    callback_at: float | None = None


class Interactions:
    """Interactions by id and token, answered against a :class:`DiscordState`."""

    def __init__(self, state: DiscordState, *, deadline_s: float) -> None:
        self.state = state
        self.deadline_s = deadline_s
        self.by_id: dict[int, PendingInteraction] = {}
        self._by_token: dict[str, PendingInteraction] = {}

    def register(self, payload: Mapping[str, Any]) -> int:
        """Remember an interaction about to be dispatched."""
        iid = int(payload.get("id", 0) or 0)
        message = payload.get("message")
        pending = PendingInteraction(
            id=iid,
            token=str(payload.get("token", "")),
            kind=int(payload.get("type", 0) or 0),
            created_at=created_at(iid),
            dispatched_at=time.monotonic(),
            message_id=int(message["id"]) if isinstance(message, Mapping) else None,
            channel_id=int(payload.get("channel_id", 0) or 0),
        )
        self.by_id[iid] = self._by_token[pending.token] = pending
        return iid

    def _age(self, pending: PendingInteraction) -> float:
        return self.state.clock.now() - pending.created_at

    def callback(self, iid: int, token: str, body: Mapping[str, Any]) -> Answer:
        """POST /interactions/{id}/{token}/callback: 3 s from creation, one acknowledgement."""
        pending = self.by_id.get(iid)
        if pending is None or pending.token != token or self._age(pending) > self.deadline_s:
            return UNKNOWN_INTERACTION
        if pending.responses:
            return ALREADY_ACKED
        kind, data = int(body["type"]), body.get("data") or {}
        if (wrong := response_type_error(pending.kind, kind)) is not None:
            return wrong
        if kind == 9 and (tree := modal_errors(data)):
            return form_error(tree)
        if kind in (4, 7) and (invalid := check_message(data, create=kind == 4)) is not None:
            return invalid
        if kind == 7 and pending.message_id is not None:
            status, edited = self.state.apply_edit(pending.message_id, data)
            if status != 200:
                return status, edited
        pending.responses.append(kind)
        pending.callback_at = time.monotonic()
        resource: dict[str, Any] = {"type": kind}
        interaction = {"id": str(iid), "type": pending.kind, "response_message_loading": kind == 5}
        if kind == 4:
            msg = self.state.new_message(pending.channel_id, data, BOT_ID)
            self.state.store(pending.channel_id, msg)
            resource["message"] = msg
            interaction["response_message_id"] = msg["id"]
        return 200, {"interaction": interaction, "resource": resource}

    def _live(self, token: str) -> PendingInteraction | Answer:
        pending = self._by_token.get(token)
        if pending is None:
            return UNKNOWN_WEBHOOK
        if self._age(pending) > TOKEN_LIFETIME_S:
            return EXPIRED_TOKEN  # interaction tokens are valid for 15 minutes
        return pending

    def followup(self, token: str, body: Mapping[str, Any]) -> Answer:
        """POST /webhooks/{app}/{token}: a followup message."""
        pending = self._live(token)
        if not isinstance(pending, PendingInteraction):
            return pending
        if (invalid := check_message(body, create=True)) is not None:
            return invalid
        msg = self.state.new_message(pending.channel_id, body, BOT_ID)
        msg["webhook_id"] = str(APP_ID)
        self.state.store(pending.channel_id, msg)
        return 200, msg

    def edit_message(self, token: str, target: str, body: Mapping[str, Any]) -> Answer:
        """PATCH /webhooks/{app}/{token}/messages/@original (the clicked card for components)."""
        pending = self._live(token)
        if not isinstance(pending, PendingInteraction):
            return pending
        if target == "@original" and pending.message_id is not None:
            return self.state.apply_edit(pending.message_id, body)
        if (invalid := check_message(body, create=False)) is not None:
            return invalid
        return 200, self.state.new_message(pending.channel_id, body, BOT_ID)
