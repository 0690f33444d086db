"""``/joke status``: a requester's open and recent requests, read from the store in one snapshot.

Each request is placed by its run: queued (its place in the scope's line), drafting, in
review (its place among the scope's pending reviews, oldest first), or over with how its last
review was decided. The service answers; every adapter renders the neutral report.
"""

from bot.models import OPEN_STAGES, RequestView, Stage, StatusReport
from bot.review import ReviewAction
from bot.store import RequestRow, RequestState, RunRow, RunStatus, Store, Tx, WaitStatus

SHOWN = 10  # latest requests looked at
RECENT_S = 86400.0  # requests over longer ago than this are left out
APPROVING = (ReviewAction.APPROVE, ReviewAction.EDIT)


async def status_of(store: Store, requester: str, now: float, cooldown_s: float) -> StatusReport:
    """The report for ``requester`` (``platform:user_id``) at ``now``."""
    async with store.read() as tx:
        rows = await tx.requests_of(requester, SHOWN)
        last = await tx.last_request_at(requester)
        views = [view for row in rows if (view := await _view(tx, row)) is not None]
    recent = tuple(v for v in views if v.stage in OPEN_STAGES or v.at >= now - RECENT_S)
    next_at = last + cooldown_s if last is not None and last + cooldown_s > now else 0.0
    return StatusReport(recent, next_at, now)


async def _view(tx: Tx, row: RequestRow) -> RequestView | None:
    if row.state == RequestState.QUEUED:
        ahead = await tx.queued_ahead(row.platform, row.scope, row.id or 0)
        return RequestView(row.run_id, row.topic, Stage.QUEUED, row.requested_at, ahead + 1)
    run = await tx.get_run(row.run_id)
    if run is None:
        return None  # pruned meanwhile
    if run.status == RunStatus.WAITING:
        return await _waiting(tx, row, run)
    if run.status in (RunStatus.RUNNING, RunStatus.RESUMING):
        if (run.decision or {}).get("action") in APPROVING:  # being published
            return RequestView(row.run_id, row.topic, Stage.APPROVED, run.updated_at)
        return RequestView(row.run_id, row.topic, Stage.DRAFTING, row.requested_at)
    if run.status == RunStatus.FAILED:
        return RequestView(row.run_id, row.topic, Stage.FAILED, run.updated_at)
    return await _decided(tx, row, run)


async def _waiting(tx: Tx, row: RequestRow, run: RunRow) -> RequestView:
    wait = None if run.wait_token is None else await tx.get_wait(run.wait_token)
    if wait is None or wait.status != WaitStatus.PENDING:
        return RequestView(row.run_id, row.topic, Stage.DRAFTING, row.requested_at)
    ahead = await tx.reviews_ahead(row.platform, row.scope, wait.created_at, row.id or 0)
    return RequestView(row.run_id, row.topic, Stage.IN_REVIEW, wait.created_at, ahead + 1)


async def _decided(tx: Tx, row: RequestRow, run: RunRow) -> RequestView:
    wait = None if run.wait_token is None else await tx.get_wait(run.wait_token)
    if wait is None or wait.status == WaitStatus.PENDING:
        return RequestView(row.run_id, row.topic, Stage.ENDED, run.updated_at)
    at = wait.decided_at or run.updated_at
    if wait.status == WaitStatus.EXPIRED:
        return RequestView(row.run_id, row.topic, Stage.EXPIRED, at)
    action = (wait.decision or {}).get("action")
    stage = Stage.APPROVED if action in APPROVING else Stage.REJECTED
    return RequestView(row.run_id, row.topic, stage, at)
