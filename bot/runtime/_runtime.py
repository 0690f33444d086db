"""``Runtime``: the durable runner's public face (start, decide, recover, drain, serve)."""

import asyncio
import functools
import logging
from collections.abc import Mapping
from typing import Any

from bot.models import Admitted, DecideResult, DecisionRequest, Origin, WaitInfo
from bot.ports import Clock, EffectSender
from bot.runtime import _transitions as transitions
from bot.runtime._admission import admit_waiting, request_run
from bot.runtime._context import Context
from bot.runtime._crash import CrashPoints
from bot.runtime._decide import decide
from bot.runtime._effects import audit
from bot.runtime._loops import guarded, hint_loop, outbox_loop, timer_loop, worker_loop
from bot.runtime._outbox import deliver_due
from bot.runtime._recovery import recover
from bot.runtime._repair import check_cards_if_due
from bot.runtime._runner import run_due
from bot.runtime._starts import StartBatches
from bot.runtime._timers import TIMER_DUTY, expire_due
from bot.store import RequestRow, RequestState, RunStatus, Store, Wakeable
from bot.telemetry import Telemetry
from flows import AsyncFlow, start_checkpoint

log = logging.getLogger(__name__)


class Runtime:
    """Runs flows durably over a ``Store``; see docs/durability.md for what it promises.

    Args:
        senders: effect senders by platform; more can be added with :meth:`register_sender`.
        runner_id: unique per process; names the lease holder. A restarted process with the
            same id takes its old leases back at once, others wait ``lease_s``.
        crash: crash points for tests; None in production.
        lease_s: lease length; must exceed the longest single node (LLM timeout).
        poll_s: longest idle sleep of a loop (picks up other processes' work).
        concurrency: runs executed at once by ``serve()``.
        telemetry: where committed events are reported (metrics); none by default.
    """

    def __init__(
        self,
        store: Store,
        flows: Mapping[str, AsyncFlow],
        senders: Mapping[str, EffectSender] | None,
        clock: Clock,
        *,
        runner_id: str,
        crash: CrashPoints | None = None,
        lease_s: float = 30.0,
        poll_s: float = 5.0,
        concurrency: int = 4,
        telemetry: Telemetry | None = None,
    ) -> None:
        self._ctx = Context(
            store, flows, dict(senders or {}), clock, runner_id, crash or CrashPoints(), lease_s
        )
        if telemetry is not None:
            self._ctx.telemetry = telemetry
        self._poll_s, self._concurrency = poll_s, concurrency
        self._caught_up = self._recovered = False
        self._catch_up_lock = asyncio.Lock()
        self._starts = StartBatches(store)

    @property
    def runner_id(self) -> str:
        """This process's identity as a lease holder (runs, effects, duties)."""
        return self._ctx.runner_id

    def register_sender(self, platform: str, sender: EffectSender) -> None:
        """Deliver effects of runs from ``platform`` through ``sender`` from now on.

        Replaces an earlier sender for ``platform`` (an adapter rebuilt after a reconnect).
        Effects that came due while there was none are delivered once the outbox loop wakes.
        """
        self._ctx.senders[platform] = sender
        self._ctx.wake.outbox.set()

    async def start_run(
        self, flow: str, run_id: str, origin: Origin, shared: dict[str, Any]
    ) -> tuple[str, bool]:
        """Create run ``run_id`` of ``flow`` unless it exists; ``(run_id, created)``."""
        ctx = self._ctx
        if flow not in ctx.flows:
            raise ValueError(f"unknown flow {flow!r}; registered: {', '.join(ctx.flows)}")
        now = ctx.clock.now()
        run = transitions.start(
            run_id, flow, origin.to_json(), start_checkpoint(ctx.flows[flow], shared), now
        )
        event = audit(run_id, now, origin.requester.ref, "run.started", flow=flow, seq=0)
        event.data.update(status=str(RunStatus.RUNNING), origin=run.origin)
        created = await self._starts.insert(run, event)  # shares a commit with its neighbours
        if created:
            ctx.wake.runs.set()
        return run_id, created

    async def request_run(
        self,
        flow: str,
        run_id: str,
        origin: Origin,
        shared: dict[str, Any],
        *,
        topic: str,
        cooldown_s: float = 0.0,
        max_active: int = 0,
    ) -> Admitted:
        """Accept a request at the door: start run ``run_id`` now or queue it in its scope.

        Refused (COOLING, nothing stored) when ``origin.requester`` made a request less than
        ``cooldown_s`` ago; queued when the scope already has ``max_active`` runs going (0:
        no limit) or others wait in line. Idempotent on ``run_id``. See ``_admission.py``.
        """
        ctx = self._ctx
        if flow not in ctx.flows:
            raise ValueError(f"unknown flow {flow!r}; registered: {', '.join(ctx.flows)}")
        start_checkpoint(ctx.flows[flow], shared)  # the state must be storable before it waits
        row = RequestRow(
            run_id,
            flow,
            origin.platform,
            origin.scope,
            origin.requester.ref,
            topic,
            origin.to_json(),
            shared,
            max_active,
            RequestState.QUEUED,
            ctx.clock.now(),
        )
        return await request_run(ctx, row, cooldown_s=cooldown_s)

    async def decide(self, request: DecisionRequest) -> DecideResult:
        """Record a decision; the result is committed before this returns (ack after it)."""
        await self._catch_up()
        return await decide(self._ctx, request)

    async def wait_info(self, token: str) -> WaitInfo | None:
        """The wait behind ``token`` (e.g. to prefill an edit form), or None."""
        async with self._ctx.store.read() as tx:
            wait = await tx.get_wait(token)
        if wait is None:
            return None
        return WaitInfo(wait.token, wait.run_id, wait.kind, wait.status, wait.payload, wait.allowed)

    async def _catch_up(self) -> None:
        """Overdue waits are decided by their timers before any click is accepted."""
        if self._caught_up:
            return
        async with self._catch_up_lock:
            if not self._caught_up:
                await expire_due(self._ctx)
                self._caught_up = True

    async def recover(self) -> None:
        """Boot: decide overdue waits, reconcile in-flight effects, wake the loops."""
        async with self._catch_up_lock:
            await recover(self._ctx)
            await admit_waiting(self._ctx)
            self._caught_up = self._recovered = True

    async def drain(self, *, max_rounds: int = 10_000) -> None:
        """Do all work due now (timers, admissions, runs, effects, a card check) until idle."""
        await self._catch_up()
        for _ in range(max_rounds):
            worked = await expire_due(self._ctx)
            worked += await admit_waiting(self._ctx)
            worked += await run_due(self._ctx)
            worked += await deliver_due(self._ctx)
            worked += await check_cards_if_due(self._ctx)
            if not worked:
                return
        raise RuntimeError(f"drain did not settle after {max_rounds} rounds (a flow loop?)")

    async def release(self) -> None:
        """After serve() stopped: free this process's run leases and its timers duty.

        Without it, a run that was drafting at shutdown waits for its lease to expire, and
        another process takes the expiry sweep over only once the duty's lease ran out.
        """
        async with self._ctx.store.transaction() as tx:
            released = await tx.release_leases(self._ctx.runner_id)
            await tx.release_duty(TIMER_DUTY, self._ctx.runner_id)
        if released:
            log.info("released %d run lease(s) on shutdown", released)

    async def serve(self) -> None:
        """Recover (unless done already), then run the worker, outbox and timer loops.

        With a store that offers wake-up hints (``Wakeable``), also listen for them.
        """
        ctx, poll = self._ctx, self._poll_s
        if not self._recovered:
            await self.recover()
        loops = {
            "worker": functools.partial(worker_loop, ctx, poll, self._concurrency),
            "outbox": functools.partial(outbox_loop, ctx, poll),
            "timers": functools.partial(timer_loop, ctx, poll),
        }
        if isinstance(ctx.store, Wakeable):
            loops["wakeups"] = functools.partial(hint_loop, ctx, ctx.store)
        async with asyncio.TaskGroup() as group:
            for name, loop in loops.items():
                group.create_task(guarded(ctx, name, loop), name=f"runtime:{name}")
