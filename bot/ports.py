"""Protocols between the layers: the LLM, the clock, platform senders, the event sink, the board.

Flows depend on :class:`LLM`; the runtime on :class:`Clock` and :class:`EffectSender`;
adapters on :class:`EventSink` (what they call) and implement :class:`EffectSender`; the web
console also reads :class:`ReviewBoard` and :class:`RunInsights`.
"""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from typing import Literal, Protocol

from bot.models import (
    AuditEvent,
    DecideResult,
    DecisionRequest,
    Finding,
    HistoryCursor,
    HistoryEntry,
    HistoryFilter,
    JokeRequest,
    LinkCode,
    OutboxEffect,
    QueueFilter,
    QueueItem,
    RequestResult,
    RouteInfo,
    RunDetail,
    RunStatsReport,
    ScopeConfig,
    Surface,
    WaitInfo,
)


@dataclass(frozen=True)
class ChatMessage:
    """One chat message for the LLM."""

    role: Literal["system", "user", "assistant"]
    content: str


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
    ) -> str:
        """The assistant's reply text."""
        ...

    async def moderate(self, text: str) -> bool | None:
        """True if the provider's moderation flags ``text``; None if it offers none."""
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

    def follow_batches(self, after: int) -> AsyncIterator[list[AuditEvent]]:
        """:meth:`follow` in batches (each non-empty, in order): what arrived since the last."""
        ...


class RunInsights(Protocol):
    """What the console's history and stats pages read: every run, and numbers over time."""

    async def history(
        self, where: HistoryFilter, after: HistoryCursor | None = None, limit: int = 50
    ) -> list[HistoryEntry]:
        """Runs matching ``where``, newest first, starting after ``after`` (keyset)."""
        ...

    async def stats(self, since: float, until: float) -> RunStatsReport:
        """The numbers over ``[since, until)`` (epoch seconds)."""
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
