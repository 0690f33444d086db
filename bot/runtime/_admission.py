"""The door: a new request starts, waits in its scope's queue, or is told to cool down.

Every accepted request is a ``requests`` row; its run exists once it is admitted. A scope has
``max_active`` slots (the limit its requests were queued under; 0: no limit): a run holds one
from admission until it finishes or fails. A queued request is admitted

- in the transaction that accepts it, when nobody is ahead of it and a slot is free;
- in the transaction that ends a run of its scope (the step commit that finishes it, or the
  one that fails it): the slot changes hands in one commit, so no crash can lose it and no
  newcomer can take it;
- by the sweep (``admit_waiting``: boot, ``drain()`` and every pass of the worker loop), for
  scopes whose slots freed any other way.

Each admission runs under ``Tx.serialize`` of the scope's key, so two processes never count
the same free slot twice, and ``admit_request`` is a compare-and-set, so no request starts
twice. The cooldown is checked under the requester's key in the accepting transaction.
"""

import logging
from typing import Any

from bot.models import Admission, Admitted, Origin
from bot.runtime import _transitions as transitions
from bot.runtime._context import Context
from bot.runtime._effects import audit
from bot.store import RequestRow, RequestState, RunStatus, Tx
from flows import start_checkpoint

log = logging.getLogger(__name__)

SWEEP_SCOPES = 100  # scopes looked at per sweep


def queue_key(platform: str, scope: str) -> str:
    """The ``Tx.serialize`` key of a scope's slots and queue."""
    return f"queue:{platform}:{scope}"


async def request_run(
    ctx: Context,
    row: RequestRow,
    *,
    cooldown_s: float,
) -> Admitted:
    """Accept ``row`` (start it or queue it) unless its requester is cooling down."""
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        if cooldown_s > 0:  # first: a redelivery racing its original must see it committed
            await tx.serialize(f"requester:{row.requester}")
        existing = await tx.get_request(row.run_id)
        if existing is not None:  # a redelivered event: its current state, nothing new
            return await describe(tx, existing)
        if cooldown_s > 0:
            last = await tx.last_request_at(row.requester)
            if last is not None and last + cooldown_s > now:
                return Admitted(Admission.COOLING, row.run_id, retry_at=last + cooldown_s)
        # the scope's key before the insert: ids (first come, first served) and places then
        # follow the commit order; taken after it, two racers could both be told "#1"
        await tx.serialize(queue_key(row.platform, row.scope))
        if not await tx.insert_request(row):  # the same request, accepted meanwhile
            found = await tx.get_request(row.run_id)
            return await describe(tx, found) if found else Admitted(Admission.STARTED, row.run_id)
        started = await admit(ctx, tx, row.platform, row.scope, now)
        answer = await describe(tx, row, started=row.run_id in started)
    if started:
        ctx.wake.runs.set()
    return answer


async def describe(tx: Tx, row: RequestRow, *, started: bool = False) -> Admitted:
    """Where ``row`` stands now: started, or queued at its position."""
    if started or row.state != RequestState.QUEUED:
        return Admitted(Admission.STARTED, row.run_id)
    ahead = await tx.queued_ahead(row.platform, row.scope, row.id or 0)
    return Admitted(Admission.QUEUED, row.run_id, position=ahead + 1)


async def admit(ctx: Context, tx: Tx, platform: str, scope: str, now: float) -> list[str]:
    """Start the scope's queued requests while it has free slots; the run ids started.

    Called inside a write transaction; takes the scope's key first.
    """
    await tx.serialize(queue_key(platform, scope))
    await tx.settle_requests(platform, scope, now)
    active = await tx.active_requests(platform, scope)
    started: list[str] = []
    for head in await tx.queued_requests(platform, scope, 50):
        if head.max_active and active >= head.max_active:
            break
        flow = ctx.flows.get(head.flow)
        if flow is None:  # a flow this process does not run: leave it to one that does
            log.warning("request %s: no flow %r here; it stays queued", head.run_id, head.flow)
            break
        if not await tx.admit_request(head.run_id, now):
            continue
        await _insert_run(ctx, tx, head, start_checkpoint(flow, head.shared), now)
        active += 1
        started.append(head.run_id)
    return started


async def _insert_run(
    ctx: Context, tx: Tx, head: RequestRow, checkpoint: dict[str, Any], now: float
) -> None:
    run = transitions.start(head.run_id, head.flow, head.origin, checkpoint, now)
    if not await tx.insert_run(run):
        return  # started before the request was recorded (an upgrade): nothing new
    event = audit(run.run_id, now, head.requester, "run.started", flow=head.flow, seq=0)
    event.data.update(
        status=str(RunStatus.RUNNING), origin=run.origin, queued_s=now - head.requested_at
    )
    await tx.add_audit([event])


async def admit_after(ctx: Context, tx: Tx, origin: dict[str, Any], now: float) -> list[str]:
    """In the transaction that ends a run: hand its slot to the next in its scope's line."""
    try:
        where = Origin.from_json(origin)
    except (KeyError, TypeError):
        return []  # a run started without a full origin (a test flow): no scope to free
    return await admit(ctx, tx, where.platform, where.scope, now)


async def admit_waiting(ctx: Context) -> int:
    """The sweep: admit what each queued scope has room for; how many runs started."""
    async with ctx.store.read() as tx:
        scopes = await tx.queued_scopes(SWEEP_SCOPES)
    count = 0
    for platform, scope in scopes:
        async with ctx.store.transaction() as tx:
            count += len(await admit(ctx, tx, platform, scope, ctx.clock.now()))
    if count:
        ctx.wake.runs.set()
    return count
