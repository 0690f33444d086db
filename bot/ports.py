"""Protocols between the layers: LLM, classifier, clock, platform senders, event sink, board.

Flows depend on :class:`LLM`, :class:`Classifier` and :class:`DraftProgress`; the runtime on
:class:`Clock` and :class:`EffectSender`; adapters on :class:`EventSink` and
:class:`DraftWatch` (what they call) and implement :class:`EffectSender`; they report their
live platform connection through a :class:`ConnectionHook` the wiring hands them; the web
console also reads :class:`ReviewBoard`.
"""

from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.models import (
    AuditEvent,
    DecideResult,
    DecisionRequest,
    DraftEvent,
    Finding,
    JokeRequest,
    LinkCode,
    OutboxEffect,
    QueueFilter,
    QueueItem,
    RequestResult,
    RouteInfo,
    RunDetail,
    ScopeConfig,
    Surface,
    WaitInfo,
)


@dataclass(frozen=True)
class ChatMessage:
    """One chat message for the LLM."""

    role: Literal["system", "user", "assistant"]
    content: str


OnDelta = Callable[[str], None]  # receives each new piece of the reply as it is generated


class LLM(Protocol):
    """A chat model. Raises :class:`bot.errors.LLMError` with a clear message on failure."""

    @property
    def label(self) -> str:
        """Honest human label, e.g. ``SmolLM2-135M, embedded — tiny model, expect weak jokes``."""
        ...

    @property
    def model_id(self) -> str:
        """Model id for the card and the audit log, e.g. ``smollm2-135m-instruct``."""
        ...

    @property
    def wants_avoid_list(self) -> bool:
        """True when rejected jokes should go in the prompt (capable models only)."""
        ...

    async def complete(
        self,
        messages: Sequence[ChatMessage],
        *,
        temperature: float = 0.8,
        max_tokens: int = 80,
        seed: int | None = None,
        on_delta: OnDelta | None = None,
    ) -> str:
        """The assistant's reply text.

        With ``on_delta`` the provider streams: it calls ``on_delta`` on the event loop with
        each new piece of text as it is generated (the pieces join to the reply, before any
        ``strip``) and still returns the whole reply, or raises as without it. ``on_delta``
        must be quick and must not raise.
        """
        ...

    async def moderate(self, text: str) -> bool | None:
        """True if the provider's moderation flags ``text``; None if it offers none."""
        ...


class DraftProgress(Protocol):
    """Where the drafting node reports progress; the run is the one executing in this task."""

    def publish(self, event: DraftEvent) -> None:
        """Tell the run's watchers (in-process, never persisted); quick, never raises."""
        ...


class DraftWatch(Protocol):
    """What a live page calls to follow a run's draft as the model writes it."""

    def watch(self, run_id: str) -> AsyncIterator[DraftEvent]:
        """The run's draft events: first what happened so far, then live ones.

        Ends after an event that ``closes`` (the draft is in the queue, or given up).
        Raises :class:`bot.errors.BadRequest` for an unknown run.
        """
        ...


class Classifier(Protocol):
    """An offensive-language classifier that runs locally (no network, no key)."""

    @property
    def name(self) -> str:
        """What scored, for the audit log, e.g. ``alt-profanity-check 1.6.1``."""
        ...

    async def score(self, text: str) -> float:
        """The probability, from 0 to 1, that ``text`` is offensive."""
        ...


class Clock(Protocol):
    """Wall-clock seconds since the epoch, and sleeping; faked in tests."""

    def now(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class EffectSender(Protocol):
    """One platform's side of the outbox.

    ``send`` returns the platform ref of what it created or edited (message id, ``ch:ts``).
    It raises :class:`bot.errors.SendError` when the platform refused (retryable or not) and
    :class:`bot.errors.OutcomeUnknown` when the request may have been applied.
    ``reconcile`` answers "was this effect already applied?": the ref if found, None if
    certainly not, or raises :class:`bot.errors.CannotReconcile`.
    ``exists`` answers "is the card posted by this ``review.post`` (at ``effect.card_ref``)
    still there?": False if the platform says it was deleted, None if it cannot tell now
    (an outage, missing permissions); it never raises.
    """

    async def send(self, effect: OutboxEffect) -> str: ...

    async def reconcile(self, effect: OutboxEffect) -> str | None: ...

    async def exists(self, effect: OutboxEffect) -> bool | None: ...


class ConnectionHook(Protocol):
    """Where an adapter reports whether it is connected to its platform right now.

    Called with True once the platform can reach the bot (Discord's gateway READY or
    RESUMED, a Slack socket's ``hello``, the HTTP listener bound) and with False when that
    stops; ``detail`` says what happened, for readiness checks. The wiring passes one per
    surface (``bot.supervisor.SurfaceStatus.report``); it must not block or raise.
    """

    def __call__(self, connected: bool, detail: str) -> None: ...


class EventSink(Protocol):
    """What adapters call: neutral requests in, answers to show out."""

    async def request_joke(self, request: JokeRequest) -> RequestResult: ...

    async def decide(self, request: DecisionRequest) -> DecideResult: ...

    async def wait_info(self, token: str) -> WaitInfo | None: ...

    async def save_scope(self, config: ScopeConfig) -> None: ...

    async def scope(self, platform: str, scope: str) -> ScopeConfig | None: ...

    async def link_code(self, platform: str, scope: str) -> LinkCode:
        """A code that, typed on another surface, makes it review this scope's requests."""
        ...

    async def link(self, code: str, surface: Surface) -> str:
        """Use a link code on ``surface``; the answer to show. BadRequest if the code is bad."""
        ...


class ChatSink(EventSink, Protocol):
    """What the terminal adapter needs beyond EventSink: resuming and following local runs."""

    async def pending_reviews(self, platform: str, scope: str) -> list[WaitInfo]:
        """Review waits still pending for runs that came from ``platform``/``scope``."""
        ...

    async def run_status(self, run_id: str) -> str | None:
        """``running``, ``waiting``, ``finished``, ``failed``..., or None for an unknown run."""
        ...


class ReviewBoard(Protocol):
    """What the web console reads: the queue, one run, routes, and the audit log as a feed."""

    async def queue(self, where: QueueFilter) -> list[QueueItem]:
        """Reviews matching ``where``, newest activity first."""
        ...

    async def review(self, token: str) -> QueueItem | None:
        """One review (any status) as the queue shows it; None if unknown or not a review."""
        ...

    async def run(self, run_id: str) -> RunDetail | None:
        """One run with its reviews, cards and audit trail; None if unknown."""
        ...

    async def routes(self) -> list[RouteInfo]:
        """Every route of a scope's reviews to another surface."""
        ...

    def last_seq(self) -> int:
        """The seq of the latest event streamed so far (a page rendered now shows up to it)."""
        ...

    async def events_since(self, seq: int, limit: int) -> list[AuditEvent]:
        """Committed audit events after ``seq``, in order (the replay of a stream)."""
        ...

    def follow(self, after: int) -> AsyncIterator[AuditEvent]:
        """Every audit event after ``after``, in order, without gaps: the replay, then live.

        The iterator ends only when the board closes or the follower falls too far behind
        (it then reconnects with the last seq it saw).
        """
        ...


class Check(Protocol):
    """A ``jokebot doctor`` check (a platform implements one); it never raises for a fault."""

    area: str

    async def check(self) -> list[Finding]:
        """Look and report: one finding per problem, or one ``ok`` finding."""
        ...

    async def fix(self) -> list[Finding]:
        """Do this area's safe repairs (``--fix``); one finding per repair done or refused."""
        ...
