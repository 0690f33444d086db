"""Executing runs: take the lease, resume the flow, commit every step in one transaction.

``StepCommitter`` is the engine's ``on_step`` hook. It runs before every leaf node, at a
suspension and at the end; each call writes the checkpoint (with ``shared``), ``seq + 1``, the
emitted effects as outbox rows, the new wait and audit rows together, guarded by a
compare-and-set on ``(seq, runner_id)`` so a runner that lost its lease cannot write.
"""

import asyncio
import contextlib
import logging
from typing import Any, cast

from bot import logs, progress
from bot.models import EffectKind, TextPayload
from bot.review import REVIEW, Card
from bot.runtime import _transitions as transitions
from bot.runtime._context import Context
from bot.runtime._effects import AUDIT_KIND, alerts, audit, card_posts, effect_row, new_token
from bot.store import RUNNABLE, AuditRow, OutboxRow, RunRow, RunStatus, WaitRow, WaitStatus
from flows import Decision, Effect, FlowChanged, Wait

log = logging.getLogger(__name__)


class LeaseLost(Exception):  # a condition, not a bug
    """Another runner took this run over, or it changed since we loaded it."""


class CommitFailed(Exception):
    """The store could not commit a step; the run stays runnable and is retried later."""


class StepCommitter:
    """The ``on_step`` hook for one execution of one run."""

    def __init__(self, ctx: Context, run: RunRow) -> None:
        self.ctx, self.run = ctx, run

    async def __call__(self, checkpoint: dict[str, Any], effects: list[Effect]) -> None:
        ctx, run = self.ctx, self.run
        status = str(checkpoint["status"])
        ctx.crash.hit("step.after_exec", run_id=run.run_id, status=status)
        now, seq = ctx.clock.now(), run.seq + 1
        rows, audits = self._rows(effects, seq, now)
        wait = None
        if status == "waiting":
            wait = self._wait(Wait.from_json(checkpoint["wait"]), seq, now)
            if wait.kind == REVIEW:
                rows += card_posts(run, wait.token, cast(Card, wait.payload), seq, len(rows), now)
            new = transitions.suspend(run, checkpoint, wait.token, now)
        elif status == "finished":
            new = transitions.finish(run, checkpoint, now)
        else:  # renew the lease with every step
            new = transitions.step(run, checkpoint, now, now + ctx.lease_s)
        step = audit(
            run.run_id,
            now,
            ctx.runner_id,
            "step",
            seq=seq,
            status=str(new.status),
            cursor=new.cursor,
            effects=[r.effect_id for r in rows],
            wait=None if wait is None else wait.token,
        )
        try:
            async with ctx.store.transaction() as tx:
                if not await tx.save_run(new, expect_seq=run.seq, expect_runner=ctx.runner_id):
                    raise LeaseLost(run.run_id)
                if wait is not None:
                    await tx.insert_wait(wait)
                await tx.insert_effects(rows)
                await tx.add_audit([step, *audits])
                ctx.crash.hit("step.before_commit", run_id=run.run_id, status=status)
        except LeaseLost:
            raise
        except Exception as exc:
            # an infrastructure failure (disk full, locked too long) is not the flow's fault
            raise CommitFailed(f"run {run.run_id}: step {seq} not committed: {exc}") from exc
        ctx.crash.hit("step.after_commit", run_id=run.run_id, status=status)
        self.run = new
        for row in audits:
            ctx.telemetry.flow_event(run.flow, str(row.data.get("event", "")), row.data)
        if rows:
            ctx.wake.outbox.set()
        if wait is not None and wait.expires_at is not None:
            ctx.wake.timers.set()

    def _rows(
        self, effects: list[Effect], seq: int, now: float
    ) -> tuple[list[OutboxRow], list[AuditRow]]:
        rows: list[OutboxRow] = []
        audits: list[AuditRow] = []
        run_id = self.run.run_id
        for effect in effects:
            if effect.kind == AUDIT_KIND:
                audits.append(AuditRow(run_id, now, "flow", "flow", dict(effect.payload)))
            elif effect.kind == EffectKind.ALERT:  # to every review surface's moderators
                rows += alerts(self.run, effect.payload, seq, len(rows), now)
            else:
                rows.append(effect_row(run_id, seq, len(rows), effect.kind, effect.payload, now))
        return rows, audits

    def _wait(self, wait: Wait, seq: int, now: float) -> WaitRow:
        return WaitRow(
            token=new_token(),
            run_id=self.run.run_id,
            seq=seq,
            kind=wait.kind,
            allowed=wait.allowed,
            payload=dict(wait.payload),
            on_timeout=wait.on_timeout,
            status=WaitStatus.PENDING,
            created_at=now,
            expires_at=None if wait.timeout_s is None else now + wait.timeout_s,
            needs=dict(wait.needs),
        )


async def execute(ctx: Context, run_id: str) -> bool:
    """Run ``run_id`` until it waits, finishes or fails; False if we could not take its lease."""
    with logs.bound(run_id=run_id), progress.running(run_id):
        return await _execute(ctx, run_id)


async def _execute(ctx: Context, run_id: str) -> bool:
    now = ctx.clock.now()
    async with ctx.store.transaction() as tx:
        run = await tx.claim_run(run_id, ctx.runner_id, now, now + ctx.lease_s)
    if run is None:
        return False
    committer = StepCommitter(ctx, run)
    heartbeat = asyncio.create_task(_heartbeat(ctx, run_id), name=f"lease:{run_id}")
    try:
        flow = ctx.flows.get(run.flow)
        if flow is None:
            raise FlowChanged(f"no flow named {run.flow!r} is registered")
        decision = None
        if run.status == RunStatus.RESUMING and run.decision is not None:
            decision = Decision.from_json(run.decision)
        await flow.resume_async(run.checkpoint, decision, on_step=committer)
    except LeaseLost:
        log.warning("run %s: lease lost to another runner; stopping here", run_id)
        return False
    except CommitFailed:
        log.exception("run %s: will retry", run_id)
        return False
    except Exception as exc:
        log.exception("run %s failed", run_id)
        await fail_run(ctx, run_id, exc)
    finally:
        heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await heartbeat
    return True


async def _heartbeat(ctx: Context, run_id: str) -> None:
    """Renew the lease while a long node (an LLM call) runs between two step commits."""
    while True:
        await ctx.clock.sleep(ctx.lease_s / 3)
        try:
            async with ctx.store.transaction() as tx:
                if not await tx.renew_lease(run_id, ctx.runner_id, ctx.clock.now() + ctx.lease_s):
                    return
        except Exception:
            log.exception("run %s: could not renew the lease", run_id)


async def fail_run(ctx: Context, run_id: str, exc: Exception) -> None:
    """Mark a run failed (never lost silently): status, audit with the error, an ALERT."""
    now, error = ctx.clock.now(), f"{type(exc).__name__}: {exc}"
    async with ctx.store.transaction() as tx:
        run = await tx.get_run(run_id)
        if run is None or run.runner_id != ctx.runner_id or run.status not in RUNNABLE:
            return
        failed = transitions.fail(run, error, now)
        seq = failed.seq
        text = TextPayload(text=f"Run {run_id} failed and was stopped: {error}")
        rows = alerts(run, text, seq, 0, now)
        if not await tx.save_run(failed, expect_seq=run.seq, expect_runner=ctx.runner_id):
            return
        await tx.insert_effects(rows)
        await tx.add_audit(
            [
                audit(
                    run_id,
                    now,
                    ctx.runner_id,
                    "run.failed",
                    seq=seq,
                    status=str(RunStatus.FAILED),
                    error=error,
                    effects=[r.effect_id for r in rows],
                )
            ]
        )
    ctx.telemetry.run_failed(failed.flow)
    ctx.wake.outbox.set()


async def run_due(ctx: Context, limit: int = 100) -> int:
    """Execute every runnable run we may take, one after another; how many ran."""
    async with ctx.store.read() as tx:
        ids = await tx.runnable_runs(ctx.runner_id, ctx.clock.now(), limit)
    count = 0
    for run_id in ids:
        if await execute(ctx, run_id):
            count += 1
    return count
