"""JokeService: the EventSink every adapter calls; checks requests, then starts or decides runs.

It also answers the terminal's questions about local runs (:class:`bot.ports.ChatSink`) and
lets live pages follow a draft as it is written (:class:`bot.ports.DraftWatch`).
"""

import asyncio
import logging
from collections import OrderedDict
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from typing import Any, Protocol

from bot import logs
from bot.errors import BadRequest
from bot.models import (
    DecideResult,
    DecisionRequest,
    DraftEvent,
    DraftStage,
    JokeRequest,
    LinkCode,
    Origin,
    RequestResult,
    RequestStatus,
    ScopeConfig,
    Surface,
    WaitInfo,
)
from bot.ports import Clock
from bot.progress import ProgressHub, Subscription
from bot.queues import Queues
from bot.review import REVIEW
from bot.store import RUNNABLE, RunStatus, Store, WaitStatus
from bot.telemetry import NoTelemetry, Telemetry

log = logging.getLogger(__name__)

NOT_SET_UP = (
    "This server isn't set up for jokes yet: an admin must run /jokeconfig to choose the "
    "moderator channel, the public channel and the moderator role."
)
FAILED = "Something went wrong on our side; the error was logged. Please try again later."
NO_SUCH_RUN = "There is no such request."

# the flow's initial shared store from a request and its scope's settings (None: none saved)
StateFactory = Callable[[JokeRequest, ScopeConfig | None], dict[str, Any]]


class RuntimePort(Protocol):
    """The part of bot.runtime.Runtime the service needs."""

    async def start_run(
        self, flow: str, run_id: str, origin: Origin, shared: dict[str, Any]
    ) -> tuple[str, bool]: ...

    async def decide(self, request: DecisionRequest) -> DecideResult: ...

    async def wait_info(self, token: str) -> WaitInfo | None: ...


MAX_BLOCKED_WORDS = 100
MAX_WORD_LEN = 50


def check_scope(config: ScopeConfig) -> ScopeConfig:
    """``config`` with its blocked words tidied (lowercase, single spaces, no repeats).

    Raises:
        BadRequest: too many words, one too long or empty, or a threshold outside (0, 1].
    """
    words = tuple(dict.fromkeys(" ".join(w.lower().split()) for w in config.blocked_words))
    if any(not w.rstrip("*") or len(w) > MAX_WORD_LEN for w in words):
        raise BadRequest(f"Each blocked word must have 1 to {MAX_WORD_LEN} characters.")
    if any("#" in w for w in words):  # the blocklist format reads "#" as a comment
        raise BadRequest("Blocked words cannot contain #.")
    if len(words) > MAX_BLOCKED_WORDS:
        raise BadRequest(f"At most {MAX_BLOCKED_WORDS} blocked words, please.")
    threshold = config.screen_threshold
    if threshold is not None and not 0 < threshold <= 1:
        raise BadRequest("The screen threshold must be above 0 and at most 1 (e.g. 0.5).")
    return replace(config, blocked_words=words)


class JokeService:
    """Validates and rate-limits requests, fills in per-scope channels, forwards to the runtime.

    Args:
        new_state: builds the flow's initial shared store from a request and its scope's
            config; raises BadRequest (e.g. an empty topic) with a message for the requester.
        cooldown_s: minimum seconds between two new requests of one user.
        telemetry: where answered requests are counted (metrics); nowhere by default.
        progress: the hub the joke flow publishes drafting progress to (``watch``).
        watch_poll_s: while a watched run shows no progress here (another process may be
            drafting it), how often the store is asked whether its draft is in the queue.
    """

    def __init__(
        self,
        runtime: RuntimePort,
        store: Store,
        clock: Clock,
        new_state: StateFactory,
        *,
        flow: str = "joke",
        cooldown_s: float = 30.0,
        telemetry: Telemetry | None = None,
        progress: ProgressHub | None = None,
        watch_poll_s: float = 2.0,
    ) -> None:
        self._runtime, self._store, self._clock = runtime, store, clock
        self._progress = progress or ProgressHub()
        self._watch_poll_s = watch_poll_s
        self._new_state, self._flow, self._cooldown_s = new_state, flow, cooldown_s
        self._queues = Queues(store, clock)
        self._last_request: dict[str, float] = {}
        self._seen: OrderedDict[str, RequestResult] = OrderedDict()  # request_key -> answer
        self._telemetry: Telemetry = telemetry or NoTelemetry()

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        with logs.bound(request_key=request.request_key, platform=request.origin.platform):
            return await self._request(request)

    async def _request(self, request: JokeRequest) -> RequestResult:
        platform = request.origin.platform
        if (earlier := self._seen.get(request.request_key)) is not None:
            self._telemetry.requested(platform, "duplicate")
            return earlier  # a redelivered event gets the same answer and no second run
        try:
            result = await self._start(request)
        except BadRequest as exc:
            result = RequestResult(RequestStatus.REFUSED, str(exc))
        except Exception:
            log.exception("request %s failed", request.request_key)
            self._telemetry.requested(platform, str(RequestStatus.FAILED))
            return RequestResult(RequestStatus.FAILED, FAILED)
        self._remember(request.request_key, result)
        self._telemetry.requested(platform, str(result.status))
        return result

    async def _start(self, request: JokeRequest) -> RequestResult:
        config = await self._store.get_scope(request.origin.platform, request.origin.scope)
        origin = await self._complete_origin(request.origin, config)
        wait_s = self._cooldown_left(origin.requester.ref)
        if wait_s > 0:
            return RequestResult(
                RequestStatus.REFUSED,
                f"Easy there! You can ask for another joke in {wait_s:.0f} s.",
            )
        state = self._new_state(replace(request, origin=origin), config)
        run_id, _ = await self._runtime.start_run(self._flow, request.request_key, origin, state)
        self._last_request[origin.requester.ref] = self._clock.now()
        topic = state.get("topic", request.topic)
        return RequestResult(
            RequestStatus.ACCEPTED,
            f"Got it! Drafting a joke about “{topic}”. A moderator reviews it before it is posted.",
            run_id,
        )

    async def _complete_origin(self, origin: Origin, config: ScopeConfig | None) -> Origin:
        if not (origin.mod_channel and origin.public_channel):
            if config is None:
                raise BadRequest(NOT_SET_UP)
            origin = replace(
                origin, mod_channel=config.mod_channel, public_channel=config.public_channel
            )
        if origin.review_surfaces:  # the adapter chose the surfaces itself
            return origin
        return replace(origin, review_surfaces=await self._queues.surfaces(origin))

    def _cooldown_left(self, who: str) -> float:
        last = self._last_request.get(who)
        if last is None:
            return 0.0
        return max(0.0, last + self._cooldown_s - self._clock.now())

    def _remember(self, key: str, result: RequestResult) -> None:
        self._seen[key] = result
        while len(self._seen) > 10_000:
            self._seen.popitem(last=False)

    async def decide(self, request: DecisionRequest) -> DecideResult:
        with logs.bound(request_key=request.interaction_id, platform=request.actor.platform):
            return await self._runtime.decide(request)

    async def wait_info(self, token: str) -> WaitInfo | None:
        return await self._runtime.wait_info(token)

    async def link_code(self, platform: str, scope: str) -> LinkCode:
        return await self._queues.code_for(platform, scope)

    async def link(self, code: str, surface: Surface) -> str:
        return await self._queues.link(code, surface)

    async def save_scope(self, config: ScopeConfig) -> None:
        await self._store.save_scope(check_scope(config))

    async def scope(self, platform: str, scope: str) -> ScopeConfig | None:
        return await self._store.get_scope(platform, scope)

    async def pending_reviews(self, platform: str, scope: str) -> list[WaitInfo]:
        async with self._store.read() as tx:
            waits = await tx.pending_waits(platform, scope)
        return [
            WaitInfo(w.token, w.run_id, w.kind, w.status, w.payload, w.allowed)
            for w in waits
            if w.kind == REVIEW and w.status == WaitStatus.PENDING
        ]

    async def run_status(self, run_id: str) -> str | None:
        async with self._store.read() as tx:
            run = await tx.get_run(run_id)
            if run is None:
                return None
            if await tx.open_effects(run_id):
                return "delivering"  # finished runs still have effects on their way out
        return str(run.status)

    async def watch(self, run_id: str) -> AsyncIterator[DraftEvent]:
        with self._progress.subscribe(run_id) as subscription:  # first: nothing is missed
            settled = await self._settled(run_id)
            if settled is None and not self._progress.knows(run_id):
                raise BadRequest(NO_SUCH_RUN)
            drafting = settled is not None and settled.stage == DraftStage.STARTED
            if drafting and subscription.replay_closed:  # an earlier draft's end: it drafts again
                subscription.forget_replay()
            while True:
                event = await self._next(run_id, subscription)
                yield event
                if event.closes:
                    return

    async def _next(self, run_id: str, subscription: Subscription) -> DraftEvent:
        """The next live event; or, while this process sees none, the store's word."""
        while True:
            if subscription.pending or self._progress.knows(run_id):
                return await subscription.next()
            settled = await self._settled(run_id)
            if settled is not None and settled.stage != DraftStage.STARTED:
                return settled
            ready = asyncio.ensure_future(subscription.ready())
            tick = asyncio.ensure_future(self._clock.sleep(self._watch_poll_s))
            try:
                await asyncio.wait((ready, tick), return_when=asyncio.FIRST_COMPLETED)
            finally:
                ready.cancel()
                tick.cancel()

    async def _settled(self, run_id: str) -> DraftEvent | None:
        """What the store says about a run's draft: in the queue, over, or (STARTED) drafting.

        None for an unknown run.
        """
        async with self._store.read() as tx:
            run = await tx.get_run(run_id)
            wait = None
            if run is not None and run.wait_token and run.status == RunStatus.WAITING:
                wait = await tx.get_wait(run.wait_token)
        if run is None:
            return None
        if wait is not None and wait.kind == REVIEW and wait.status == WaitStatus.PENDING:
            card = wait.payload  # a bot.review.Card
            attempt = int(card.get("attempt", 1))
            return DraftEvent(DraftStage.FINISHED, attempt, str(card.get("draft", "")))
        if run.status in RUNNABLE or run.status == RunStatus.WAITING:
            return DraftEvent(DraftStage.STARTED, 0)  # drafting, or waiting to retry the model
        detail = f"this request is no longer drafting ({run.status})"
        return DraftEvent(DraftStage.FAILED, 0, detail=detail, final=True)
