"""Building outbox and audit rows: deterministic effect ids, dedupe keys and wait tokens."""

import base64
import hashlib
import secrets
from collections.abc import Mapping
from typing import Any, cast

from bot.models import EffectKind
from bot.review import Card, card_update
from bot.store import AuditRow, OutboxRow, WaitRow

AUDIT_KIND = "audit"  # Effect("audit", ...) goes to the audit table, not the outbox
SYSTEM = "system"


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


def review_update(
    wait: WaitRow, seq: int, outcome: str, actor: str, data: Mapping[str, Any], now: float
) -> OutboxRow:
    """The effect that turns a decided card into its outcome line."""
    payload = card_update(wait.token, cast(Card, wait.payload), outcome, actor, data)
    return effect_row(wait.run_id, seq, 0, EffectKind.REVIEW_UPDATE, payload, now, token=wait.token)


def alert_for(effect: OutboxRow, text: str, now: float) -> OutboxRow:
    """An ALERT to the moderators about ``effect``, ordered right after it."""
    return effect_row(
        effect.run_id,
        effect.seq,
        effect.n + 1000,  # after every effect of the same step, before later steps
        EffectKind.ALERT,
        {"text": text},
        now,
        id_=f"{effect.effect_id}:alert",
    )


def audit(run_id: str, now: float, actor: str, event: str, **data: Any) -> AuditRow:
    """An audit row for ``event``."""
    return AuditRow(run_id=run_id, at=now, actor=actor, event=event, data=data)
