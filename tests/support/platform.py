"""FakePlatform: an in-memory chat platform behind ``EffectSender``, with fault injection.

It records posts, edits, notices and alerts per channel; emulates Discord's nonce dedupe (a
repeated ``dedupe_key`` within ``dedupe_window_s`` returns the existing message) and a Slack-like
metadata lookup for ``reconcile`` (``lookup=False`` turns it off); ``delete`` removes a
message, as a moderator might (``exists`` then says False). Faults are queued and consumed
by the next matching calls. With ``journal=path`` every applied change is appended (fsync'd)
to a JSON-lines file and reloaded on start, so the platform outlives a killed bot process;
with ``shared=True`` it also follows what other processes append to the same journal (one
platform seen by several bot processes) and names its messages ``<ref_prefix>m<n>``.
"""

import itertools
import json
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.errors import CannotReconcile, OutcomeUnknown, SendError
from bot.models import Actor, DecideResult, DecisionRequest, EffectKind, OutboxEffect
from bot.ports import Clock

Decide = Callable[[DecisionRequest], Awaitable[DecideResult]]


@dataclass
class Message:
    """One message the platform shows; ``edits`` are the review.update payloads applied to it."""

    ref: str
    channel: str
    kind: str
    run_id: str
    effect_id: str
    dedupe_key: str
    payload: dict[str, Any]
    at: float
    edits: list[dict[str, Any]] = field(default_factory=list)
    edit_ids: list[str] = field(default_factory=list)


@dataclass
class Answer:
    """What the clicker of one interaction saw; ``result`` None means "interaction failed"."""

    interaction_id: str
    token: str
    action: str
    actor: str
    result: DecideResult | None


@dataclass
class _Fault:
    mode: str  # fail_before_apply / apply_then_drop / outage / permanent
    remaining: int
    kind: str | None


class FakePlatform:
    """An ``EffectSender`` whose world is a list of messages."""

    def __init__(
        self,
        clock: Clock,
        *,
        dedupe_window_s: float = 300.0,
        lookup: bool = True,
        journal: Path | None = None,
        shared: bool = False,
        ref_prefix: str = "",
    ) -> None:
        self.clock = clock
        self.dedupe_window_s = dedupe_window_s
        self.lookup = lookup
        self.messages: list[Message] = []
        self._deleted = 0  # refs are never reused: m<posts ever + 1>
        self.calls: list[tuple[str, str, int]] = []  # (op, effect_id, attempt)
        self.lookups: list[str] = []  # effect ids of the cards ``exists`` was asked about
        self.answers: dict[str, Answer] = {}
        self.deliveries: list[tuple[str, DecideResult]] = []
        self._faults: list[_Fault] = []
        self._duplicates = 0
        self._first_seen: dict[str, float] = {}
        self._interactions = itertools.count(1)
        self._journal = journal
        self._shared, self._ref_prefix, self._offset = shared, ref_prefix, 0
        self._follow()

    # -- fault injection -------------------------------------------------------------------

    def fail_before_apply(self, n: int = 1, kind: str | None = None) -> None:
        """The next ``n`` sends time out before reaching the platform (OutcomeUnknown)."""
        self._faults.append(_Fault("fail_before_apply", n, kind))

    def apply_then_drop_response(self, n: int = 1, kind: str | None = None) -> None:
        """The next ``n`` sends are applied, then the response is lost (OutcomeUnknown)."""
        self._faults.append(_Fault("apply_then_drop", n, kind))

    def outage(self, n: int = 1, kind: str | None = None) -> None:
        """The next ``n`` calls (send or reconcile) fail with a retryable SendError."""
        self._faults.append(_Fault("outage", n, kind))

    def permanent_failure(self, n: int = 1, kind: str | None = None) -> None:
        """The next ``n`` sends are refused for good (SendError, not retryable)."""
        self._faults.append(_Fault("permanent", n, kind))

    def duplicate_delivery(self, n: int = 1) -> None:
        """The next ``n`` clicks are delivered twice with the same interaction id."""
        self._duplicates += n

    def clear_faults(self) -> None:
        """Forget every queued fault."""
        self._faults.clear()
        self._duplicates = 0

    def _fault(self, kind: str, modes: tuple[str, ...]) -> str | None:
        for fault in self._faults:
            if fault.remaining > 0 and fault.mode in modes and fault.kind in (None, kind):
                fault.remaining -= 1
                if fault.remaining == 0:
                    self._faults.remove(fault)
                return fault.mode
        return None

    # -- EffectSender -------------------------------------------------------------------------

    async def send(self, effect: OutboxEffect) -> str:
        self._refresh()
        self.calls.append(("send", effect.effect_id, effect.attempt))
        self._first_seen.setdefault(effect.effect_id, self.clock.now())
        mode = self._fault(
            effect.kind, ("fail_before_apply", "apply_then_drop", "outage", "permanent")
        )
        if mode == "outage":
            raise SendError("platform unavailable (503)", retryable=True)
        if mode == "permanent":
            raise SendError("missing permission (403)", retryable=False)
        if mode == "fail_before_apply":
            raise OutcomeUnknown("request timed out before it reached the platform")
        ref = self._apply(effect)
        if mode == "apply_then_drop":
            raise OutcomeUnknown("applied, but the response was lost")
        return ref

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        self._refresh()
        self.calls.append(("reconcile", effect.effect_id, effect.attempt))
        if self._fault(effect.kind, ("outage",)) == "outage":
            raise SendError("platform unavailable (503)", retryable=True)
        if effect.kind == EffectKind.REVIEW_UPDATE:
            card = self._by_ref(effect.card_ref)
            applied = card is not None and effect.effect_id in card.edit_ids
            return effect.card_ref if applied else None  # edits are idempotent: safe to redo
        found = self._by_key(effect.dedupe_key)
        if self.lookup:
            return None if found is None else found.ref
        # no lookup: only a nonce re-send inside the dedupe window can tell (Discord)
        first = self._first_seen.get(effect.effect_id, self.clock.now())
        if self.clock.now() - first > self.dedupe_window_s:
            raise CannotReconcile("dedupe window passed and message lookup is unavailable")
        return None if found is None else found.ref

    async def exists(self, effect: OutboxEffect) -> bool | None:
        self._refresh()
        self.lookups.append(effect.effect_id)
        if self._fault(effect.kind, ("outage",)) == "outage":
            return None
        return self._by_ref(effect.card_ref) is not None

    def delete(self, ref: str) -> None:
        """A moderator deletes message ``ref`` (it no longer exists; edits to it fail)."""
        self._remove(ref)
        self._write({"op": "delete", "ref": ref})

    def _remove(self, ref: str) -> None:
        kept = [m for m in self.messages if m.ref != ref]
        self._deleted += len(self.messages) - len(kept)
        self.messages = kept

    def _apply(self, effect: OutboxEffect) -> str:
        if effect.kind == EffectKind.REVIEW_UPDATE:
            card = self._by_ref(effect.card_ref)
            if card is None:
                raise SendError(f"unknown message {effect.card_ref!r} (404)", retryable=False)
            if effect.effect_id not in card.edit_ids:
                card.edits.append(dict(effect.payload))
                card.edit_ids.append(effect.effect_id)
                self._write(
                    {
                        "op": "edit",
                        "ref": card.ref,
                        "effect_id": effect.effect_id,
                        "payload": dict(effect.payload),
                    }
                )
            return card.ref
        earlier = self._by_key(effect.dedupe_key)
        if earlier is not None and self.clock.now() - earlier.at <= self.dedupe_window_s:
            return earlier.ref  # Discord: a repeated nonce returns the existing message
        message = Message(
            ref=f"{self._ref_prefix}m{len(self.messages) + self._deleted + 1}",
            channel=_channel(effect),
            kind=str(effect.kind),
            run_id=effect.run_id,
            effect_id=effect.effect_id,
            dedupe_key=effect.dedupe_key,
            payload=dict(effect.payload),
            at=self.clock.now(),
        )
        self.messages.append(message)
        self._write({"op": "post", **asdict(message)})
        return message.ref

    def _by_key(self, key: str) -> Message | None:
        return next((m for m in self.messages if m.dedupe_key == key), None)

    def _by_ref(self, ref: str | None) -> Message | None:
        return next((m for m in self.messages if m.ref == ref), None)

    # -- clicks -------------------------------------------------------------------------------

    async def click(
        self,
        decide: Decide,
        token: str,
        action: str,
        actor: Actor,
        *,
        data: Mapping[str, Any] | None = None,
    ) -> DecideResult | None:
        """Deliver a button click (twice if a duplicate delivery is queued); the shown answer."""
        interaction_id = f"i{next(self._interactions)}"
        request = DecisionRequest(token, action, actor, interaction_id, dict(data or {}))
        times = 2 if self._duplicates > 0 else 1
        self._duplicates = max(0, self._duplicates - 1)
        answer = Answer(interaction_id, token, action, actor.ref, None)
        self.answers[interaction_id] = answer  # "interaction failed" unless decide returns
        for i in range(times):
            result = await decide(request)
            self.deliveries.append((interaction_id, result))
            if i == 0:
                answer.result = result  # a platform shows the first response only
        return answer.result

    # -- queries ------------------------------------------------------------------------------

    def posts(self, *, kind: str | None = None, run_id: str | None = None) -> list[Message]:
        """Messages, optionally of one kind and/or one run."""
        self._refresh()
        return [
            m
            for m in self.messages
            if (kind is None or m.kind == kind) and (run_id is None or m.run_id == run_id)
        ]

    def public_posts(self, run_id: str | None = None) -> list[Message]:
        """Published jokes."""
        return self.posts(kind=EffectKind.PUBLISH, run_id=run_id)

    def cards(self, run_id: str | None = None) -> list[Message]:
        """Review cards, oldest first."""
        return self.posts(kind=EffectKind.REVIEW_POST, run_id=run_id)

    def alerts(self) -> list[Message]:
        """Alerts to the moderators."""
        return self.posts(kind=EffectKind.ALERT)

    def notices(self, run_id: str | None = None) -> list[Message]:
        """Notices to requesters."""
        return self.posts(kind=EffectKind.NOTIFY, run_id=run_id)

    def in_channel(self, channel: str) -> list[Message]:
        """Messages of one channel."""
        return [m for m in self.messages if m.channel == channel]

    def latest_token(self, run_id: str) -> str | None:
        """The token on the newest review card of ``run_id``."""
        cards = self.cards(run_id)
        return str(cards[-1].payload["token"]) if cards else None

    # -- journal ------------------------------------------------------------------------------

    def _write(self, entry: dict[str, Any]) -> None:
        if self._journal is None:
            return
        with self._journal.open("a", encoding="utf-8") as f:
            f.write(json.dumps(entry) + "\n")
            f.flush()
            os.fsync(f.fileno())

    def _refresh(self) -> None:
        if self._shared:
            self._follow()

    def _follow(self) -> None:
        """Apply the complete journal lines not seen yet (ours too: applying is idempotent)."""
        if self._journal is None or not self._journal.exists():
            return
        with self._journal.open("rb") as f:
            f.seek(self._offset)
            data = f.read()
        complete = data[: data.rfind(b"\n") + 1]  # a line still being written waits
        self._offset += len(complete)
        for line in complete.decode("utf-8").splitlines():
            try:
                entry = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line torn by kill -9: that change never happened
            op = entry.pop("op")
            if op == "post":
                if self._by_ref(entry["ref"]) is None:
                    self.messages.append(Message(**entry))
            elif op == "delete":
                self._remove(entry["ref"])
            else:
                card = self._by_ref(entry["ref"])
                if card is not None and entry["effect_id"] not in card.edit_ids:
                    card.edits.append(entry["payload"])
                    card.edit_ids.append(entry["effect_id"])


def _channel(effect: OutboxEffect) -> str:
    origin = effect.origin
    if effect.kind == EffectKind.NOTIFY:
        return origin.reply_channel or f"dm:{origin.requester.ref}"
    return effect.surface.channel
