"""Rows of the durable store as typed records: runs, waits, inbox, outbox, audit, duties..."""

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class RunStatus(StrEnum):
    """Where a run is: runnable (running/resuming), paused (waiting) or over."""

    RUNNING = "running"  # continue at the checkpoint's node
    RESUMING = "resuming"  # a decision is recorded; resume the waiting node with it
    WAITING = "waiting"  # paused at a pending wait
    FINISHED = "finished"
    FAILED = "failed"


RUNNABLE = (RunStatus.RUNNING, RunStatus.RESUMING)

# The runtime's background loops, as named by wake-up hints (``Wakeable.wakeups``)
RUNS_LOOP, OUTBOX_LOOP, TIMERS_LOOP = "runs", "outbox", "timers"
EVERY_LOOP = frozenset({RUNS_LOOP, OUTBOX_LOOP, TIMERS_LOOP})
TERMINAL = (RunStatus.FINISHED, RunStatus.FAILED)


class WaitStatus(StrEnum):
    """A wait is pending until exactly one decision (or the timer) closes it."""

    PENDING = "pending"
    DECIDED = "decided"
    EXPIRED = "expired"
    CANCELLED = "cancelled"


class EffectStatus(StrEnum):
    """Outbox states: pending -> in_flight -> done, or uncertain / failed."""

    PENDING = "pending"  # known not applied yet
    IN_FLIGHT = "in_flight"  # may have been applied: reconcile before sending again
    DONE = "done"
    UNCERTAIN = "uncertain"  # may have been applied and cannot be checked; moderators alerted
    FAILED = "failed"  # the platform refused for good; moderators alerted


OPEN_EFFECT = (EffectStatus.PENDING, EffectStatus.IN_FLIGHT)


@dataclass
class RunRow:
    """One flow run: its checkpoint (with ``shared``), position and lease."""

    run_id: str
    flow: str
    origin: dict[str, Any]
    status: RunStatus
    cursor: str
    seq: int
    checkpoint: dict[str, Any]
    created_at: float
    updated_at: float
    decision: dict[str, Any] | None = None  # the decision to resume with (status resuming)
    wait_token: str | None = None  # the run's latest wait
    runner_id: str | None = None
    lease_until: float | None = None
    error: str = ""


@dataclass
class WaitRow:
    """A pending (or closed) human decision, addressed by its random token."""

    token: str
    run_id: str
    seq: int
    kind: str
    allowed: tuple[str, ...]
    payload: dict[str, Any]
    on_timeout: str
    status: WaitStatus
    created_at: float
    expires_at: float | None = None
    decision: dict[str, Any] | None = None
    actor: str | None = None  # platform:user_id, or system:timeout
    actor_display: str | None = None
    decided_at: float | None = None
    needs: dict[str, tuple[str, ...]] = field(default_factory=dict)  # see flows.Wait.needs


@dataclass
class InboxRow:
    """A platform interaction already processed, with the answer it got."""

    platform: str
    interaction_id: str
    token: str
    received_at: float
    result: str = ""


@dataclass
class OutboxRow:
    """An external effect to deliver, in ``(seq, n)`` order within its run."""

    effect_id: str
    run_id: str
    seq: int
    n: int
    kind: str
    payload: dict[str, Any]
    dedupe_key: str
    created_at: float
    status: EffectStatus = EffectStatus.PENDING
    attempts: int = 0
    next_attempt_at: float = 0.0
    platform_ref: str | None = None
    last_error: str = ""
    token: str | None = None  # for review.post / review.update: the wait's token
    updated_at: float = 0.0
    claimed_by: str | None = (
        None  # the runner delivering it; next_attempt_at is then the claim's end
    )


@dataclass
class AuditRow:
    """One state change, written in the same transaction as the change."""

    run_id: str
    at: float
    actor: str
    event: str
    data: dict[str, Any] = field(default_factory=dict)
    id: int | None = None


@dataclass
class ReviewRow:
    """A review wait with what the console's queue needs of its run: origin and status."""

    wait: WaitRow
    origin: dict[str, Any]
    run_status: RunStatus


@dataclass
class OpsCounts:
    """What the metrics gauges show, counted in one read: see ``Tx.ops_counts``."""

    effects: dict[str, int]  # outbox rows by status, every status but done
    pending_waits: dict[str, int]  # pending waits by kind
    leases: int  # runnable runs whose lease is live (held by any process)
    queued: int = 0  # requests waiting in their scope's line


@dataclass
class DutyRow:
    """A singleton duty's lease: ``holder`` does it until ``lease_until`` (see Tx.claim_duty)."""

    name: str
    holder: str
    lease_until: float


class RequestState(StrEnum):
    """A request's place at the door: in its scope's queue, holding a slot, or over."""

    QUEUED = "queued"  # no run yet: waits for a free slot of its scope
    ACTIVE = "active"  # its run exists and, until it finishes or fails, holds a slot
    DONE = "done"  # its run is over (marked when a later admission looks at the scope)


@dataclass
class RequestRow:
    """An accepted request (``requests``): who asked, where, and its run once admitted.

    ``shared`` is the run's initial state, kept while queued (emptied at admission, when the
    run's checkpoint holds it); ``max_active`` is the scope's limit the request was queued
    under (0: none). ``id`` orders requests: a scope's queue is first come, first served.
    """

    run_id: str
    flow: str
    platform: str
    scope: str
    requester: str
    topic: str
    origin: dict[str, Any]
    shared: dict[str, Any]
    max_active: int
    state: RequestState
    requested_at: float
    admitted_at: float | None = None
    done_at: float | None = None
    id: int | None = None
