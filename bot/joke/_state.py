"""The joke run's shared state, its action and outcome names, and the effect helpers."""

import zlib
from typing import Any, NotRequired, TypedDict

from bot.errors import BadRequest
from bot.joke import prompts
from bot.joke._options import JokeOptions
from bot.joke.hygiene import blocked_term, clean_topic
from bot.joke.screen import ScreenPolicy, scope_word
from bot.models import EffectKind, JokeRequest, ScopeConfig, TextPayload
from bot.review import REVIEW, ReviewAction
from flows import Effect, emit

# Actions (the strings that route the flow; a review wait offers the first four as decisions).
APPROVE = ReviewAction.APPROVE.value
REJECT = ReviewAction.REJECT.value
EDIT = ReviewAction.EDIT.value
TIMEOUT = ReviewAction.TIMEOUT.value
RETRY = "retry"
CANCEL = "cancel"
DRAFTED = "drafted"
SCREENED = "screened"
NO_CLEAN_JOKE = "no_clean_joke"
UNAVAILABLE = "unavailable"
MODEL_DOWN = "model_down"
GIVE_UP = "give_up"

# Wait kinds: the runtime posts a review card for REVIEW_WAIT and only a timer for RETRY_WAIT.
REVIEW_WAIT = REVIEW
RETRY_WAIT = "retry"

# Outcomes: ``shared["outcome"]`` and the flow's final action.
PUBLISHED = "published"
GAVE_UP = "gave_up"
EXPIRED = "expired"
CANCELLED = "cancelled"

AUDIT = "audit"


class RejectedJoke(TypedDict):
    """A draft a moderator rejected, with the optional reason and the actor ref."""

    text: str
    reason: str
    by: str


class JokeState(TypedDict):
    """The shared store of one joke run (plain JSON; see :func:`new_joke_state`)."""

    topic: str
    requester: str  # display name, for cards and notices
    requester_name: NotRequired[str]  # a plain name for other platforms' cards (Actor.name)
    requester_platform: NotRequired[str]  # where the request came from
    attempt: int  # drafts shown to moderators so far
    max_attempts: int
    draft: str
    rejected: list[RejectedJoke]
    screened_out: int  # drafts thrown away before review, whole run
    screen_tries: int  # drafts thrown away for the draft being made now
    llm_failures: int  # consecutive
    llm_error: str
    final_text: str
    edited: bool
    decided_by: str
    outcome: str
    model_id: str
    model_label: str
    seed_base: int
    screen_words: list[str]  # the scope's own blocked words, as they were at the request
    screen_threshold: float  # the classifier score that screens a draft out, likewise
    screen: dict[str, Any]  # the screen's result for ``draft`` (ScreenResult.to_json())


def new_joke_state(
    topic: str,
    requester: str,
    *,
    max_attempts: int,
    max_topic_len: int = 100,
    seed_base: int = 0,
    screen: ScreenPolicy | None = None,
) -> JokeState:
    """The initial state for a request; ``max_attempts`` and ``screen`` are fixed for the run.

    Raises:
        BadRequest: the topic is empty after cleaning, or blocklisted (by the bot or the scope).
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    screen = screen or ScreenPolicy()
    clean = clean_topic(topic, max_topic_len)
    if blocked_term(clean) is not None or scope_word(clean, screen.blocked_words) is not None:
        raise BadRequest(prompts.TOPIC_BLOCKED)
    return JokeState(
        topic=clean,
        requester=requester,
        attempt=0,
        max_attempts=max_attempts,
        draft="",
        rejected=[],
        screened_out=0,
        screen_tries=0,
        llm_failures=0,
        llm_error="",
        final_text="",
        edited=False,
        decided_by="",
        outcome="",
        model_id="",
        model_label="",
        seed_base=seed_base,
        screen_words=list(screen.blocked_words),
        screen_threshold=screen.threshold,
        screen={},
    )


def request_state(
    request: JokeRequest, config: ScopeConfig | None, options: JokeOptions
) -> dict[str, Any]:
    """The initial state for ``request`` from its scope's ``config`` (BadRequest: bad topic)."""
    requester = request.origin.requester
    state = new_joke_state(
        request.topic,
        requester.display,
        max_attempts=options.max_attempts,
        max_topic_len=options.topic_max_len,
        # seeds derive from the run's state: vary them per request, or every "/joke cats"
        # would get the same sequence of drafts from a deterministic local model
        seed_base=zlib.crc32(request.request_key.encode()) & 0x7FFFFFFF,
        screen=screen_policy(config, options),
    )
    state["requester_name"] = requester.name or requester.display
    state["requester_platform"] = request.origin.platform
    return dict(state)


def screen_policy(config: ScopeConfig | None, options: JokeOptions) -> ScreenPolicy:
    """The screen settings of a scope: its words, its threshold or else the bot's default."""
    if config is None:
        return ScreenPolicy(threshold=options.screen_threshold)
    threshold = config.screen_threshold
    if threshold is None:
        threshold = options.screen_threshold
    return ScreenPolicy(config.blocked_words, threshold)


def notice_fields(shared: JokeState) -> dict[str, Any]:
    """The values the notice and alert templates in :mod:`bot.joke.prompts` may use."""
    return {
        "topic": shared["topic"],
        "requester": shared["requester"],
        "reason": shared["llm_error"],
        "failures": shared["llm_failures"],
        "drafts": shared["attempt"],
    }


def emit_text(kind: EffectKind, text: str) -> None:
    """Emit a text effect (a notice to the requester or an alert to the moderators)."""
    emit(Effect(kind.value, TextPayload(text=text)))


def audit(event: str, **fields: Any) -> None:
    """Emit an audit event with its fields."""
    emit(Effect(AUDIT, {"event": event, **fields}))
