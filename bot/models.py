"""Neutral events, results and outgoing effects shared by the runtime and the adapters.

Adapters translate platform payloads into these types on their first line and translate
:class:`OutboxEffect` back into platform calls. No SDK type ever appears here.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any, NotRequired, TypedDict


@dataclass(frozen=True)
class Actor:
    """Someone who asks or decides: a platform user id plus how to show them.

    ``display`` is how their own platform shows them (a Slack ``<@U…>`` mention, a Discord
    display name); ``name`` is a plain display name for everywhere else ("" when unknown).
    """

    platform: str
    user_id: str
    display: str
    is_moderator: bool = False
    name: str = ""

    @property
    def ref(self) -> str:
        """``platform:user_id``: how the store and the audit log name this actor."""
        return f"{self.platform}:{self.user_id}"


@dataclass(frozen=True)
class Surface:
    """A channel on one platform where effects go: a review surface, or a public target."""

    platform: str
    channel: str

    def to_json(self) -> dict[str, str]:
        return {"platform": self.platform, "channel": self.channel}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Surface":
        return cls(str(data["platform"]), str(data["channel"]))


PLATFORM_NAMES = {
    "discord": "Discord",
    "slack": "Slack",
    "terminal": "the terminal",
    "console": "the web console",
}


def platform_name(platform: str) -> str:
    """How a platform is named to people: ``Slack``, ``Discord``, ``the terminal``."""
    return PLATFORM_NAMES.get(platform, platform)


NAME_MAX = 80  # a person's plain name in a sentence (Discord's are <= 32, Slack's <= 80)


def plain_name(name: str) -> str:
    """``name`` on one line (runs of whitespace become one space), cut to :data:`NAME_MAX`.

    For a sentence naming someone on another platform ("approved by ana via Slack"): the
    platform's renderer still escapes it; this only keeps the words after it on show.
    """
    one = " ".join(name.split())
    return one if len(one) <= NAME_MAX else one[: NAME_MAX - 1].rstrip() + "…"


@dataclass(frozen=True)
class Origin:
    """Where a run came from; its effects go back there.

    Attributes:
        platform: ``discord``, ``slack`` or ``terminal``.
        scope: guild id / team id / ``local``.
        requester: who asked.
        mod_channel: where review cards go.
        public_channel: where approved jokes go.
        reply_channel: where the request was typed (for notices to the requester).
        review_surfaces: every place the run's review cards go, on any platform (its queue);
            empty means ``mod_channel`` on the run's own platform.
    """

    platform: str
    scope: str
    requester: Actor
    mod_channel: str
    public_channel: str
    reply_channel: str = ""
    review_surfaces: tuple[Surface, ...] = ()

    @property
    def reviews(self) -> tuple[Surface, ...]:
        """Where the review cards (and the moderators' alerts) go."""
        return self.review_surfaces or (Surface(self.platform, self.mod_channel),)

    def to_json(self) -> dict[str, Any]:
        return {
            "platform": self.platform,
            "scope": self.scope,
            "requester": {
                "platform": self.requester.platform,
                "user_id": self.requester.user_id,
                "display": self.requester.display,
            }
            | ({"name": self.requester.name} if self.requester.name else {}),
            "mod_channel": self.mod_channel,
            "public_channel": self.public_channel,
            "reply_channel": self.reply_channel,
        } | (
            {"review_surfaces": [s.to_json() for s in self.review_surfaces]}
            if self.review_surfaces
            else {}
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> "Origin":
        r = data["requester"]
        return cls(
            platform=data["platform"],
            scope=data["scope"],
            requester=Actor(r["platform"], r["user_id"], r["display"], name=r.get("name", "")),
            mod_channel=data["mod_channel"],
            public_channel=data["public_channel"],
            reply_channel=data.get("reply_channel", ""),
            review_surfaces=tuple(Surface.from_json(s) for s in data.get("review_surfaces", ())),
        )


@dataclass(frozen=True)
class JokeRequest:
    """``/joke <topic>``: ``request_key`` makes a redelivered event map to the same run."""

    request_key: str
    origin: Origin
    topic: str


class RequestStatus(StrEnum):
    """How a joke request ended at the door."""

    ACCEPTED = "accepted"  # a run was started (or already existed for this key)
    REFUSED = "refused"  # bad topic, cooldown, not set up: message says why
    FAILED = "failed"  # unexpected: message is generic, details are logged


@dataclass(frozen=True)
class RequestResult:
    """What to tell the requester right away."""

    status: RequestStatus
    message: str
    run_id: str | None = None


class Admission(StrEnum):
    """What the door did with a new request (``Runtime.request_run``)."""

    STARTED = "started"  # its run exists and drafts now
    QUEUED = "queued"  # its scope's slots are taken: it waits in line, durably
    COOLING = "cooling"  # the requester asked too recently; nothing was stored


@dataclass(frozen=True)
class Admitted:
    """The answer of ``Runtime.request_run``.

    ``position`` is 1 for the first in line (QUEUED); ``retry_at`` is when the requester may
    ask again (COOLING). A request seen before gets its current state, never COOLING.
    """

    admission: Admission
    run_id: str
    position: int = 0
    retry_at: float = 0.0


class Stage(StrEnum):
    """Where one of a requester's requests is (``/joke status``)."""

    QUEUED = "queued"  # waiting for a slot of its scope
    DRAFTING = "drafting"  # the model writes (or rewrites) a draft
    IN_REVIEW = "in_review"  # a card waits for a moderator
    APPROVED = "approved"  # approved (or edited): posted or on its way
    REJECTED = "rejected"  # rejected, and no new draft will come
    EXPIRED = "expired"  # nobody decided in time
    ENDED = "ended"  # over without a decision (e.g. the model stayed down)
    FAILED = "failed"  # stopped by an error on our side


@dataclass(frozen=True)
class RequestView:
    """One request as its requester may see it.

    ``position`` is the place in the scope's queue (QUEUED) or among the reviews waiting in
    the scope (IN_REVIEW), 1 being next; ``at`` is when it was asked for (QUEUED, DRAFTING),
    when its card was posted (IN_REVIEW), or when it was decided or ended.
    """

    run_id: str
    topic: str
    stage: Stage
    at: float
    position: int = 0


@dataclass(frozen=True)
class StatusReport:
    """``/joke status``: the requester's open and recent requests, newest first.

    ``next_request_at`` is when they may ask again (0: now); ``now`` is the service's clock.
    """

    requests: tuple[RequestView, ...]
    next_request_at: float
    now: float

    @property
    def open(self) -> tuple[RequestView, ...]:
        """The requests not over yet."""
        return tuple(r for r in self.requests if r.stage in OPEN_STAGES)


OPEN_STAGES = (Stage.QUEUED, Stage.DRAFTING, Stage.IN_REVIEW)


@dataclass(frozen=True)
class DecisionRequest:
    """A click / modal submit / command deciding a pending wait."""

    token: str
    action: str
    actor: Actor
    interaction_id: str
    data: Mapping[str, Any] = field(default_factory=dict)  # {"reason": ...} / {"text": ...}


class DecideStatus(StrEnum):
    """Every click gets exactly one of these answers."""

    APPLIED = "applied"
    DUPLICATE = "duplicate"  # the same interaction delivered again
    ALREADY_DECIDED = "already_decided"
    EXPIRED = "expired"
    STALE = "stale"  # a card replaced by a newer draft, or a finished run
    FORBIDDEN = "forbidden"
    NOT_FOUND = "not_found"
    INVALID = "invalid"  # an action this wait does not allow, or bad data


@dataclass(frozen=True)
class DecideResult:
    """The answer to a decision request; ``message`` is what to show the clicker."""

    status: DecideStatus
    message: str
    # whoever decided first, as the clicker's platform shows them: their display on the same
    # platform, else "<plain name> via <Platform>"
    decided_by: str | None = None
    decided_at: float | None = None
    decision: str | None = None  # the action that was decided


@dataclass(frozen=True)
class WaitInfo:
    """A pending or decided wait as adapters may show it (e.g. to prefill the Edit modal)."""

    token: str
    run_id: str
    kind: str
    status: str  # pending / decided / expired / cancelled
    payload: Mapping[str, Any]
    allowed: tuple[str, ...]


@dataclass(frozen=True)
class LinkCode:
    """A code shown on one platform and typed on another to link a review surface."""

    code: str
    expires_at: float


@dataclass(frozen=True)
class QueueFilter:
    """What the console's queue shows: a wait status, and narrowing by origin, age and text.

    ``queue`` is a scope id (a Discord guild, a Slack workspace); ``search`` matches the
    topic, the draft and the requester's name, case-insensitively.
    """

    status: str = "pending"
    platform: str = ""
    queue: str = ""
    max_age_s: float | None = None
    search: str = ""
    limit: int = 200


@dataclass(frozen=True)
class QueueItem:
    """One review in the console's queue."""

    token: str
    run_id: str
    status: str  # the wait's: pending / decided / expired / cancelled
    topic: str
    draft: str
    attempt: int
    max_attempts: int
    requester: str
    platform: str
    scope: str
    opened_at: float
    activity_at: float  # decided_at, else opened_at
    decided_by: str = ""
    decided_via: str = ""  # the platform the decision was made on ("slack"), "" while pending
    decision: str = ""
    allowed: tuple[str, ...] = ()


@dataclass(frozen=True)
class AuditEvent:
    """One audit row as the console streams it; ``seq`` is the audit log's sequence number."""

    seq: int
    run_id: str
    at: float
    actor: str
    event: str
    data: Mapping[str, Any]


@dataclass(frozen=True)
class CardCopy:
    """Where one card of a review was posted, and how its delivery stands."""

    surface: Surface
    kind: str  # review.post / review.update
    status: str  # the outbox status: pending / in_flight / done / uncertain / failed
    ref: str
    at: float


@dataclass(frozen=True)
class ReviewRecord:
    """One review of a run: the draft shown, and who decided what, when and from where."""

    token: str
    status: str
    card: Mapping[str, Any]
    opened_at: float
    decided_at: float | None
    decided_by: str  # display name, "" while pending
    actor: str  # platform:user_id, or system:timeout
    decision: str  # the action, "" while pending
    data: Mapping[str, Any]  # {"reason": ...} / {"text": ...}
    cards: tuple[CardCopy, ...]


@dataclass(frozen=True)
class RunDetail:
    """Everything about one run the console's run page shows."""

    run_id: str
    status: str
    origin: Origin
    created_at: float
    updated_at: float
    error: str
    reviews: tuple[ReviewRecord, ...]
    audit: tuple[AuditEvent, ...]


@dataclass(frozen=True)
class RouteInfo:
    """A route: ``platform``/``scope``'s reviews also appear on ``surface``."""

    platform: str
    scope: str
    surface: Surface


@dataclass(frozen=True)
class Installation:
    """A chat app installed into one workspace by its OAuth flow (Slack multi-workspace mode).

    Keyed by ``(enterprise_id, team_id)``; either may be ``""`` (no Enterprise Grid; an
    org-wide install has no team). With token rotation on, ``bot_token`` expires at
    ``expires_at`` (epoch seconds) and ``refresh_token`` buys the next pair exactly once.

    Attributes:
        scopes: the bot token's granted scopes, comma-separated as Slack reports them.
        installer_id: the user who installed the app.
    """

    enterprise_id: str
    team_id: str
    bot_token: str
    bot_id: str = ""
    bot_user_id: str = ""
    scopes: str = ""
    refresh_token: str = ""
    expires_at: float | None = None
    app_id: str = ""
    team_name: str = ""
    installer_id: str = ""
    is_enterprise_install: bool = False
    installed_at: float = 0.0


class Level(StrEnum):
    """How bad a doctor finding is: ``error`` makes ``jokebot doctor`` exit 1."""

    OK = "ok"
    WARN = "warn"
    ERROR = "error"


@dataclass(frozen=True)
class Finding:
    """One line of ``jokebot doctor``: what was checked, what is wrong, the exact fix."""

    level: Level
    area: str  # "config", "store", "llm", "discord", "slack"
    message: str
    fix: str = ""  # what to do (an invite URL, a scope to add); empty when nothing is needed

    def line(self) -> str:
        """The finding as one printed line: ``[error] slack: ... -> fix: ...``."""
        fix = f" -> fix: {self.fix}" if self.fix else ""
        return f"[{self.level}] {self.area}: {self.message}{fix}"


@dataclass(frozen=True)
class ScopeConfig:
    """Per guild / workspace settings (Discord: /jokeconfig; Slack: ``/joke screen``).

    Attributes:
        blocked_words: this scope's words no draft (nor topic) may contain, on top of the
            bot's blocklist; same forms: ``word``, ``stem*``, ``two words``.
        screen_threshold: the classifier score (0-1) from which a draft is screened out;
            None: the bot's ``SCREEN_THRESHOLD``.
    """

    platform: str
    scope: str
    mod_channel: str
    public_channel: str
    moderator_role: str = ""
    blocked_words: tuple[str, ...] = ()
    screen_threshold: float | None = None


class EffectKind(StrEnum):
    """What an outbox effect asks a platform to do.

    Payloads:
        REVIEW_POST: a :class:`bot.review.CardPost`; post the review card with buttons
            carrying its token to ``origin.mod_channel``. The sender returns the message ref.
        REVIEW_UPDATE: a :class:`bot.review.CardUpdate`; edit the card at ``card_ref``: no
            buttons, a status line (:func:`bot.review.outcome_line`).
        PUBLISH: a :class:`PublishPayload`; post the approved joke to
            ``origin.public_channel`` crediting the requester. Use ``dedupe_key``.
        NOTIFY: a :class:`TextPayload`; tell the requester (``origin.requester``,
            ``reply_channel``).
        ALERT: a :class:`TextPayload`; warn the moderators in ``origin.mod_channel``.
    """

    REVIEW_POST = "review.post"
    REVIEW_UPDATE = "review.update"
    PUBLISH = "publish"
    NOTIFY = "notify"
    ALERT = "alert"


class PublishPayload(TypedDict):
    """``publish``: the approved (or edited) joke and whom to credit."""

    text: str
    topic: str
    requester: str


class TextPayload(TypedDict):
    """``notify`` and ``alert``: one message.

    A flow's alert may add ``elsewhere``: the same message for the moderators of review
    surfaces on other platforms than the request's, naming people by plain name and platform
    ("Ana (Slack)") where ``text`` names them as their own platform shows them (a Slack
    ``<@U…>``). The runtime puts the right one in each surface's ``text``.
    """

    text: str
    elsewhere: NotRequired[str]


@dataclass(frozen=True)
class OutboxEffect:
    """One effect as handed to a platform sender.

    ``dedupe_key`` is at most 25 characters (Discord's nonce limit), derived from
    ``effect_id``; ``card_ref`` is the platform ref of the review card for REVIEW_UPDATE.
    ``surface`` says where it goes: always on the sender's own platform, but the run may come
    from another one (a Discord request reviewed in Slack).
    ``created_at`` is when the runtime created the effect (its clock): nothing it describes can
    have reached a platform before, so a ``reconcile`` need not look further back (None: unknown).
    """

    effect_id: str
    run_id: str
    kind: EffectKind
    origin: Origin
    payload: Mapping[str, Any]
    dedupe_key: str
    attempt: int = 1
    card_ref: str | None = None
    target: Surface | None = None
    created_at: float | None = None

    @property
    def surface(self) -> Surface:
        """The channel this effect goes to (``target``, else the origin's for its kind)."""
        return self.target or surface_of(self.kind, self.origin, self.payload)


def surface_of(kind: str, origin: Origin, payload: Mapping[str, Any]) -> Surface:
    """Where an effect of ``kind`` goes.

    Cards and alerts go to a review surface (any platform); the joke to the public channel and
    notices back where the request was made, both on the origin platform.
    """
    if kind in (EffectKind.REVIEW_POST, EffectKind.REVIEW_UPDATE, EffectKind.ALERT):
        where = payload.get("surface")
        return Surface.from_json(where) if where else origin.reviews[0]
    if kind == EffectKind.PUBLISH:
        return Surface(origin.platform, origin.public_channel)
    return Surface(origin.platform, origin.reply_channel)


class DraftStage(StrEnum):
    """What a :class:`DraftEvent` says about the draft being written for a run."""

    STARTED = "started"  # a new draft begins: forget any text shown so far
    DELTA = "delta"  # more text of the draft being written
    SCREENED = "screened"  # the draft was thrown away by the screen (``detail`` says why)
    FINISHED = "finished"  # the draft was committed for review (``text`` is that draft)
    FAILED = "failed"  # the model failed (``detail``); it is tried again unless ``final``


@dataclass(frozen=True)
class DraftEvent:
    """Drafting progress of one run, as watchers see it; never persisted.

    Attributes:
        stage: what happened.
        attempt: the review attempt the draft is for (1 = the first card).
        text: DELTA: the new piece of text; FINISHED: the committed draft.
        detail: SCREENED: the screen's reason; FAILED: the model's error.
        final: no draft follows for now: the request gave up (or the watcher must stop).
    """

    stage: DraftStage
    attempt: int
    text: str = ""
    detail: str = ""
    final: bool = False

    @property
    def closes(self) -> bool:
        """True when a watch ends with this event (the draft is in the queue, or given up)."""
        return self.stage == DraftStage.FINISHED or self.final

    def to_json(self) -> dict[str, Any]:
        return {
            "type": str(self.stage),
            "attempt": self.attempt,
            "text": self.text,
            "detail": self.detail,
            "final": self.final,
        }


# The console's history and stats (``bot.ports.RunHistory``, ``bot.ports.RunStats``)

# a run's outcome: the flow's own (``shared["outcome"]``) once it finished, else where it stands
OUTCOMES = (
    "pending",
    "running",
    "published",
    "gave_up",
    "expired",
    "cancelled",
    "no_clean_joke",
    "model_down",
    "finished",
    "failed",
)


@dataclass(frozen=True)
class HistoryFilter:
    """Which runs the history shows: by origin, outcome, creation time and text.

    ``since``/``until`` bound ``created_at`` (``until`` excluded); ``search`` matches the topic,
    any draft and the requester's name, case-insensitively.
    """

    platform: str = ""
    queue: str = ""
    outcome: str = ""
    since: float | None = None
    until: float | None = None
    search: str = ""


@dataclass(frozen=True)
class HistoryCursor:
    """Where a history page ends (keyset pagination): the last run shown."""

    created_at: float
    run_id: str


@dataclass(frozen=True)
class HistoryEntry:
    """One run in the history, newest first."""

    run_id: str
    created_at: float
    updated_at: float
    platform: str
    scope: str
    requester: str
    topic: str
    draft: str  # the latest draft shown to moderators
    outcome: str  # one of OUTCOMES
    attempts: int  # review cards opened
    decided_by: str  # who decided the latest review ("" if nobody)
    decision: str  # its action ("" if none)
    reason: str  # a rejection's reason
    error: str  # a failed run's error

    @property
    def cursor(self) -> HistoryCursor:
        """The cursor of a page that ends with this run."""
        return HistoryCursor(self.created_at, self.run_id)


@dataclass(frozen=True)
class Percentiles:
    """How many values and their nearest-rank p50 and p95 (None when there are none)."""

    count: int
    p50: float | None
    p95: float | None


@dataclass(frozen=True)
class RunStatsReport:
    """The stats page's numbers over ``[since, until)``, all counted by the store.

    ``requests`` maps ``(day, platform)`` to runs created (``day``: UTC midnight, epoch
    seconds); ``reviews`` counts reviews opened by result (``approved``, ``edited``,
    ``rejected``, ``expired``, ``pending``, ``cancelled``); ``moderators`` is
    ``(name, decisions)``, most first; ``reasons`` the top rejection reasons; ``drafting`` the
    drafting time (the model call and the screen, from the audit log's step times) and
    ``llm_failures`` the model's failures by day.
    """

    since: float
    until: float
    requests: Mapping[tuple[float, str], int]
    reviews: Mapping[str, int]
    decision_time: Percentiles
    moderators: tuple[tuple[str, int], ...]
    reasons: tuple[tuple[str, int], ...]
    drafting: Percentiles
    drafting_buckets: tuple[tuple[str, int], ...]
    llm_calls: int
    llm_failures: Mapping[float, int]
