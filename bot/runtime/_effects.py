"""Building outbox and audit rows: deterministic effect ids, dedupe keys and wait tokens."""

import base64
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any

from bot.models import EffectKind, Origin
from bot.review import Card, CardPost
from bot.store import AuditRow, OutboxRow, RunRow

AUDIT_KIND = "audit"  # Effect("audit", ...) goes to the audit table, not the outbox
SYSTEM = "system"
ELSEWHERE = "elsewhere"  # an alert's text for other platforms' moderators (TextPayload)


def effect_id(run_id: str, seq: int, n: int) -> str:
    """``run_id:seq:n``: the same step always yields the same ids."""
    return f"{run_id}:{seq}:{n}"


def dedupe_key(effect_id: str) -> str:
    """A 20-character lowercase base32 hash of ``effect_id`` (Discord nonces take <= 25)."""
    digest = hashlib.sha256(effect_id.encode()).digest()
    return base64.b32encode(digest).decode().lower()[:20]


def new_token() -> str:
    """A random wait token: 32 hex characters, alphanumeric so it fits ``jk:v1:<token>:<a>``."""
    return secrets.token_hex(16)


def effect_row(
    run_id: str,
    seq: int,
    n: int,
    kind: str,
    payload: Mapping[str, Any],
    now: float,
    *,
    token: str | None = None,
    id_: str | None = None,
) -> OutboxRow:
    """A pending outbox row, due now."""
    eid = id_ or effect_id(run_id, seq, n)
    return OutboxRow(
        effect_id=eid,
        run_id=run_id,
        seq=seq,
        n=n,
        kind=kind,
        payload=dict(payload),
        dedupe_key=dedupe_key(eid),
        created_at=now,
        next_attempt_at=now,
        token=token,
        updated_at=now,
    )


def card_posts(
    run: RunRow, token: str, card: Card, seq: int, n: int, now: float
) -> list[OutboxRow]:
    """One ``review.post`` per review surface of the run's queue (effects n, n+1, ...)."""
    return [
        effect_row(
            run.run_id,
            seq,
            n + i,
            EffectKind.REVIEW_POST,
            CardPost(token=token, card=card, surface=surface.to_json()),
            now,
            token=token,
        )
        for i, surface in enumerate(Origin.from_json(run.origin).reviews)
    ]


def alerts(
    run: RunRow, payload: Mapping[str, Any], seq: int, n: int, now: float
) -> list[OutboxRow]:
    """An ALERT to the moderators of every review surface of the run.

    A surface on another platform than the run's gets the payload's ``elsewhere`` text, when
    it has one (:class:`bot.models.TextPayload`).
    """
    origin = Origin.from_json(run.origin)
    base = {k: v for k, v in payload.items() if k != ELSEWHERE}
    rows = []
    for i, s in enumerate(origin.reviews):
        shown = dict(base)
        if s.platform != origin.platform and payload.get(ELSEWHERE):
            shown["text"] = payload[ELSEWHERE]
        shown["surface"] = s.to_json()
        rows.append(effect_row(run.run_id, seq, n + i, EffectKind.ALERT, shown, now))
    return rows


def alert_for(effect: OutboxRow, text: str, now: float) -> OutboxRow:
    """An ALERT to the moderators about ``effect``, ordered right after it (same surface)."""
    payload: dict[str, Any] = {"text": text}
    if "surface" in effect.payload:
        payload["surface"] = effect.payload["surface"]
    return effect_row(
        effect.run_id,
        effect.seq,
        effect.n + 1000,  # after every effect of the same step, before later steps
        EffectKind.ALERT,
        payload,
        now,
        id_=f"{effect.effect_id}:alert",
    )


def audit(run_id: str, now: float, actor: str, event: str, **data: Any) -> AuditRow:
    """An audit row for ``event``."""
    return AuditRow(run_id=run_id, at=now, actor=actor, event=event, data=data)
