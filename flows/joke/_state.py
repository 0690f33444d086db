"""The joke run's shared state, its action and outcome names, and the effect helpers."""

from typing import Any, TypedDict

from bot.errors import BadRequest
from bot.models import EffectKind
from flows import prompts
from flows.durable import Effect, emit
from flows.hygiene import blocked_term, clean_topic

SCHEMA_VERSION = 1

# Actions (the strings that route the flow; a review wait also offers them as decisions).
APPROVE = "approve"
REJECT = "reject"
EDIT = "edit"
TIMEOUT = "timeout"
RETRY = "retry"
CANCEL = "cancel"
DRAFTED = "drafted"
SCREENED = "screened"
NO_CLEAN_JOKE = "no_clean_joke"
UNAVAILABLE = "unavailable"
MODEL_DOWN = "model_down"
GIVE_UP = "give_up"

# Wait kinds: the runtime posts a review card for REVIEW_WAIT and only a timer for RETRY_WAIT.
REVIEW_WAIT = "review"
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

    schema_version: int
    topic: str
    requester: str  # display name, for cards and notices
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


def new_joke_state(
    topic: str,
    requester: str,
    *,
    max_attempts: int,
    max_topic_len: int = 100,
    seed_base: int = 0,
) -> JokeState:
    """The initial state for a request; ``max_attempts`` is fixed for the run's lifetime.

    Raises:
        BadRequest: the topic is empty after cleaning, or blocklisted.
    """
    if max_attempts < 1:
        raise ValueError("max_attempts must be at least 1")
    clean = clean_topic(topic, max_topic_len)
    if blocked_term(clean) is not None:
        raise BadRequest(prompts.TOPIC_BLOCKED)
    return JokeState(
        schema_version=SCHEMA_VERSION,
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
    )


def notice_fields(shared: JokeState) -> dict[str, Any]:
    """The values the notice and alert templates in :mod:`flows.prompts` may use."""
    return {
        "topic": shared["topic"],
        "requester": shared["requester"],
        "reason": shared["llm_error"],
        "failures": shared["llm_failures"],
        "drafts": shared["attempt"],
    }


def emit_text(kind: EffectKind, text: str) -> None:
    """Emit a text effect (a notice to the requester or an alert to the moderators)."""
    emit(Effect(kind.value, {"text": text}))


def audit(event: str, **fields: Any) -> None:
    """Emit an audit event with its fields."""
    emit(Effect(AUDIT, {"event": event, **fields}))
