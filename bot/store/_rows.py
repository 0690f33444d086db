"""Mapping rows of runs, waits and outbox to records (and JSON columns back), for both dialects.

SQLite and PostgreSQL store the same columns in the same order with the same Python values
(TEXT JSON, float times, int counters), so one mapping serves both.
"""

import json
from typing import Any

from bot.models import ScopeConfig
from bot.store.records import EffectStatus, OutboxRow, RunRow, RunStatus, WaitRow, WaitStatus

RUN_COLS = (
    "run_id, flow, origin_json, status, cursor, seq, checkpoint_json, decision_json, "
    "wait_token, runner_id, lease_until, created_at, updated_at, error"
)
WAIT_COLS = (
    "token, run_id, seq, kind, allowed_json, payload_json, on_timeout, status, created_at, "
    "expires_at, decision_json, actor, actor_display, decided_at, needs_json"
)
OUTBOX_COLS = (
    "effect_id, run_id, seq, n, kind, payload_json, dedupe_key, created_at, status, attempts, "
    "next_attempt_at, platform_ref, last_error, token, updated_at, claimed_by"
)
SCOPE_COLS = (
    "platform, scope, mod_channel, public_channel, moderator_role, blocked_words_json, "
    "screen_threshold"
)
# an open effect is deliverable only when no earlier open effect of its run exists; the
# status terms must match the outbox_open index predicate for SQLite to use that index
# (portable SQL: the Postgres store uses it too)
HEAD = (
    "o.status IN ('pending', 'in_flight') AND NOT EXISTS (SELECT 1 FROM outbox p "
    "WHERE p.run_id = o.run_id AND p.status IN ('pending', 'in_flight') "
    "AND (p.seq < o.seq OR (p.seq = o.seq AND p.n < o.n)))"
)


def dumps(value: Any) -> str:
    """Compact JSON for a column."""
    return json.dumps(value, separators=(",", ":"), allow_nan=False)


def opt_json(text: str | None) -> Any:
    return None if text is None else json.loads(text)


def run_from(r: Any) -> RunRow:
    """A runs row as a record."""
    return RunRow(
        run_id=r[0],
        flow=r[1],
        origin=json.loads(r[2]),
        status=RunStatus(r[3]),
        cursor=r[4],
        seq=r[5],
        checkpoint=json.loads(r[6]),
        decision=opt_json(r[7]),
        wait_token=r[8],
        runner_id=r[9],
        lease_until=r[10],
        created_at=r[11],
        updated_at=r[12],
        error=r[13],
    )


def wait_from(r: Any) -> WaitRow:
    """A waits row as a record."""
    return WaitRow(
        token=r[0],
        run_id=r[1],
        seq=r[2],
        kind=r[3],
        allowed=tuple(json.loads(r[4])),
        payload=json.loads(r[5]),
        on_timeout=r[6],
        status=WaitStatus(r[7]),
        created_at=r[8],
        expires_at=r[9],
        decision=opt_json(r[10]),
        actor=r[11],
        actor_display=r[12],
        decided_at=r[13],
        needs={action: tuple(keys) for action, keys in json.loads(r[14]).items()},
    )


def effect_from(r: Any) -> OutboxRow:
    """An outbox row as a record."""
    return OutboxRow(
        effect_id=r[0],
        run_id=r[1],
        seq=r[2],
        n=r[3],
        kind=r[4],
        payload=json.loads(r[5]),
        dedupe_key=r[6],
        created_at=r[7],
        status=EffectStatus(r[8]),
        attempts=r[9],
        next_attempt_at=r[10],
        platform_ref=r[11],
        last_error=r[12],
        token=r[13],
        updated_at=r[14],
        claimed_by=r[15],
    )


def run_params(run: RunRow) -> tuple[Any, ...]:
    """The values of ``RUN_COLS`` for ``run``."""
    return (
        run.run_id,
        run.flow,
        dumps(run.origin),
        str(run.status),
        run.cursor,
        run.seq,
        dumps(run.checkpoint),
        None if run.decision is None else dumps(run.decision),
        run.wait_token,
        run.runner_id,
        run.lease_until,
        run.created_at,
        run.updated_at,
        run.error,
    )


def wait_params(wait: WaitRow) -> tuple[Any, ...]:
    """The values of ``WAIT_COLS`` for ``wait``."""
    return (
        wait.token,
        wait.run_id,
        wait.seq,
        wait.kind,
        dumps(list(wait.allowed)),
        dumps(wait.payload),
        wait.on_timeout,
        str(wait.status),
        wait.created_at,
        wait.expires_at,
        None if wait.decision is None else dumps(wait.decision),
        wait.actor,
        wait.actor_display,
        wait.decided_at,
        dumps({action: list(keys) for action, keys in wait.needs.items()}),
    )


def effect_params(e: OutboxRow) -> tuple[Any, ...]:
    """The values of ``OUTBOX_COLS`` for ``e``."""
    return (
        e.effect_id,
        e.run_id,
        e.seq,
        e.n,
        e.kind,
        dumps(e.payload),
        e.dedupe_key,
        e.created_at,
        str(e.status),
        e.attempts,
        e.next_attempt_at,
        e.platform_ref,
        e.last_error,
        e.token,
        e.updated_at,
        e.claimed_by,
    )


def scope_from(r: Any) -> ScopeConfig:
    """A ``scopes`` row (``SCOPE_COLS``) as the config it stores."""
    threshold = None if r[6] is None else float(r[6])
    return ScopeConfig(r[0], r[1], r[2], r[3], r[4], tuple(json.loads(r[5])), threshold)


def scope_params(c: ScopeConfig) -> tuple[Any, ...]:
    """The ``SCOPE_COLS`` values of ``c``."""
    words = dumps(list(c.blocked_words))
    return (
        c.platform,
        c.scope,
        c.mod_channel,
        c.public_channel,
        c.moderator_role,
        words,
        c.screen_threshold,
    )
