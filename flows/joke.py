"""The joke flow: draft a joke, screen it, wait for a moderator, then publish, redraft or stop.

Platform-free: the review card, the public post and the notices are effects and waits that the
durable runtime delivers. Node ids are stable names stored in checkpoints: renaming one needs a
migration (and a new ``flow_version``).
"""

from dataclasses import dataclass
from typing import Any, TypedDict

from bot.errors import BadRequest, LLMError
from bot.models import EffectKind
from bot.ports import LLM, ChatMessage
from flows import prompts
from flows.durable import Decision, DecisionNotAllowed, Effect, Wait, emit
from flows.engine import AsyncFlow, AsyncNode, Node
from flows.hygiene import (
    blocked_term,
    clean_joke,
    clean_topic,
    is_near_duplicate,
    looks_unfinished,
)

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


@dataclass(frozen=True)
class DraftRequest:
    """What one LLM call needs: messages, seed, and the jokes a draft must not resemble."""

    messages: tuple[ChatMessage, ...]
    seed: int
    known: tuple[str, ...]


@dataclass(frozen=True)
class DraftResult:
    """A cleaned draft and why it was screened out ("" = fine), or the model's error."""

    text: str = ""
    problem: str = ""
    detail: str = ""
    error: str = ""


class DraftJoke(AsyncNode):
    """Ask the model for a joke and screen it; route to review, redraft, or the failure paths."""

    node_id = "draft_joke"

    def __init__(
        self,
        llm: LLM,
        *,
        joke_max_len: int,
        max_screen_retries: int,
        max_llm_failures: int,
        retry_s: float,
    ) -> None:
        super().__init__(max_retries=1)  # the provider retries; no second retry layer here
        self.llm = llm
        self.retry_s = retry_s
        self.joke_max_len = joke_max_len
        self.max_screen_retries = max_screen_retries
        self.max_llm_failures = max_llm_failures

    async def prep_async(self, shared: JokeState) -> DraftRequest:
        rejected = shared["rejected"]
        avoid = [_avoid_line(r) for r in rejected[-prompts.AVOID_LIST_CAP :]]
        # the tiny embedded model echoes jokes put in its prompt, so only capable models get them
        messages = prompts.joke_messages(
            shared["topic"], avoid if self.llm.wants_avoid_list else []
        )
        # distinct per review attempt and per silent retry, and the same again after a crash
        seed = shared["seed_base"] + shared["attempt"] * (self.max_screen_retries + 1)
        known = [r["text"] for r in rejected] + [joke for _, joke in prompts.FEW_SHOT]
        return DraftRequest(tuple(messages), seed + shared["screen_tries"], tuple(known))

    async def exec_async(self, prep_res: DraftRequest) -> DraftResult:
        raw = await self.llm.complete(
            prep_res.messages,
            temperature=prompts.TEMPERATURE,
            max_tokens=prompts.MAX_TOKENS,
            seed=prep_res.seed,
        )
        text = clean_joke(raw, self.joke_max_len)
        if not text:
            return DraftResult(text, "empty")
        if looks_unfinished(text):
            return DraftResult(text, "unfinished")
        term = blocked_term(text)
        if term is not None:
            return DraftResult(text, "blocklist", term)
        if is_near_duplicate(text, prep_res.known):
            return DraftResult(text, "duplicate")
        if await self.llm.moderate(text):
            return DraftResult(text, "moderation")
        return DraftResult(text)

    async def exec_fallback_async(self, prep_res: DraftRequest, exc: Exception) -> DraftResult:
        if not isinstance(exc, LLMError):
            raise exc  # a bug, not an outage: let it surface
        return DraftResult(error=str(exc) or exc.kind)

    async def post_async(self, shared: JokeState, prep_res: DraftRequest, exec_res: Any) -> str:
        result: DraftResult = exec_res
        if result.error:
            return self._model_failed(shared, result.error)
        shared["llm_failures"], shared["llm_error"] = 0, ""
        if result.problem:
            return self._screened_out(shared, prep_res, result)
        shared["draft"], shared["screen_tries"] = result.text, 0
        shared["model_id"], shared["model_label"] = self.llm.model_id, self.llm.label
        return DRAFTED

    def _model_failed(self, shared: JokeState, reason: str) -> str:
        shared["llm_failures"] += 1
        shared["llm_error"] = reason
        failures = shared["llm_failures"]
        _audit("llm_error", reason=reason, failures=failures, attempt=shared["attempt"] + 1)
        if failures >= self.max_llm_failures:
            return MODEL_DOWN
        if failures == 1:  # tell people once per outage, not on every retry
            _emit(EffectKind.NOTIFY, prompts.MODEL_UNAVAILABLE.format(reason=reason))
            alert = prompts.ALERT_MODEL_DOWN.format(retry_s=self.retry_s, **_fields(shared))
            _emit(EffectKind.ALERT, alert)
        return UNAVAILABLE

    def _screened_out(self, shared: JokeState, req: DraftRequest, result: DraftResult) -> str:
        shared["screened_out"] += 1
        shared["screen_tries"] += 1
        _audit(
            "screened_out",
            count=shared["screened_out"],
            reason=result.problem,
            detail=result.detail,
            text=result.text,
            attempt=shared["attempt"] + 1,
            tries=shared["screen_tries"],
            seed=req.seed,
            model_id=self.llm.model_id,
        )
        return NO_CLEAN_JOKE if shared["screen_tries"] >= self.max_screen_retries else SCREENED


class AwaitReview(Node):
    """Show the draft to the moderators and apply their decision."""

    node_id = "await_review"

    def __init__(
        self, *, max_attempts: int, review_timeout_s: float | None, joke_max_len: int
    ) -> None:
        super().__init__()
        self.max_attempts = max_attempts
        self.review_timeout_s = review_timeout_s
        self.joke_max_len = joke_max_len

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> Wait:
        shared["attempt"] += 1
        card = {
            "topic": shared["topic"],
            "draft": shared["draft"],
            "attempt": shared["attempt"],
            "max_attempts": self._limit(shared),
            "model_label": shared["model_label"],
            "requester": shared["requester"],
        }
        _audit(
            "review_requested",
            attempt=shared["attempt"],
            draft=shared["draft"],
            model_id=shared["model_id"],
        )
        return Wait(
            REVIEW_WAIT,
            (APPROVE, REJECT, EDIT, TIMEOUT),
            payload=card,
            timeout_s=self.review_timeout_s,
            on_timeout=TIMEOUT,
        )

    def on_decision(self, shared: JokeState, decision: Decision) -> str:
        # deterministic and emits nothing: the runtime may apply it again to the same checkpoint
        action = decision.action
        if action == EDIT:
            raw = str(decision.data.get("text", ""))
            # the decision is already committed when this runs: keep what the moderator typed
            # if cleanup would leave nothing, rather than strand the run
            text = clean_joke(raw, self.joke_max_len) or " ".join(raw.split())[: self.joke_max_len]
            if not text:
                raise DecisionNotAllowed("an edit needs the new joke text")
            shared["final_text"], shared["edited"] = text, True
        elif action == APPROVE:
            shared["final_text"], shared["edited"] = shared["draft"], False
        elif action == REJECT:
            reason = " ".join(str(decision.data.get("reason", "")).split())[:300]
            shared["rejected"].append(
                {"text": shared["draft"], "reason": reason, "by": decision.actor}
            )
            if shared["attempt"] >= self._limit(shared):
                action = GIVE_UP
        shared["decided_by"] = decision.actor
        return action

    def _limit(self, shared: JokeState) -> int:
        # the run's own limit wins, so a config change never rewrites a card mid-run
        return shared.get("max_attempts") or self.max_attempts


class WaitForModel(Node):
    """Wait (no card) until the runtime's timer says to try the model again, or a cancel."""

    node_id = "wait_for_model"

    def __init__(self, *, retry_s: float) -> None:
        super().__init__()
        self.retry_s = retry_s

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> Wait:
        payload = {"reason": shared["llm_error"], "failures": shared["llm_failures"]}
        return Wait(RETRY_WAIT, (RETRY, CANCEL), payload, timeout_s=self.retry_s, on_timeout=RETRY)

    def on_decision(self, shared: JokeState, decision: Decision) -> str:
        if decision.action == CANCEL:
            shared["decided_by"] = decision.actor
        return decision.action


class _FinishRun(Node):
    """A terminal node: record the outcome, tell the requester, audit; no successors."""

    outcome = ""
    notice = ""  # a prompts template, filled from _fields()

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> str:
        shared["outcome"] = self.outcome
        _emit(EffectKind.NOTIFY, self.notice.format(**_fields(shared)))
        _audit(
            self.outcome,
            topic=shared["topic"],
            attempt=shared["attempt"],
            screened_out=shared["screened_out"],
            by=shared["decided_by"],
        )
        return self.outcome


class PublishJoke(_FinishRun):
    """Post the approved (or edited) joke publicly and tell the requester."""

    node_id, outcome, notice = "publish_joke", PUBLISHED, prompts.PUBLISHED

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> str:
        payload = {
            "text": shared["final_text"],
            "topic": shared["topic"],
            "requester": shared["requester"],
        }
        emit(Effect(EffectKind.PUBLISH.value, payload))
        if shared["edited"]:
            edited = shared["final_text"]
            _audit("edited", original=shared["draft"], edited=edited, by=shared["decided_by"])
        return super().post(shared, prep_res, exec_res)


class GiveUp(_FinishRun):
    """Every allowed draft was rejected."""

    node_id, outcome, notice = "give_up", GAVE_UP, prompts.GAVE_UP


class ExpireRequest(_FinishRun):
    """No moderator decided in time: fail closed, nothing is published."""

    node_id, outcome, notice = "expire_request", EXPIRED, prompts.EXPIRED


class CancelRequest(_FinishRun):
    """The run was cancelled while it waited for the model."""

    node_id, outcome, notice = "cancel_request", CANCELLED, prompts.CANCELLED


class ReportNoCleanJoke(_FinishRun):
    """Every silent regeneration for one draft was screened out."""

    node_id, outcome, notice = "report_no_clean_joke", NO_CLEAN_JOKE, prompts.NO_CLEAN_JOKE


class ReportModelDown(_FinishRun):
    """The model failed too many times in a row: tell the requester and the moderators."""

    node_id, outcome, notice = "report_model_down", MODEL_DOWN, prompts.MODEL_GAVE_UP

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> str:
        _emit(EffectKind.ALERT, prompts.ALERT_MODEL_GAVE_UP.format(**_fields(shared)))
        return super().post(shared, prep_res, exec_res)


class JokeFlow(AsyncFlow):
    """The joke flow's identity in checkpoints."""

    flow_id = "joke"
    flow_version = 1


def build_joke_flow(
    llm: LLM,
    *,
    max_attempts: int = 5,
    review_timeout_s: float | None = 86400.0,
    joke_max_len: int = 300,
    retry_s: float = 60.0,
    max_llm_failures: int = 5,
    max_screen_retries: int = 4,
) -> AsyncFlow:
    """The joke flow wired to ``llm``.

    Args:
        llm: the chat model.
        max_attempts: drafts shown to moderators, for states that do not carry their own.
        review_timeout_s: seconds a review card waits before the request expires.
        joke_max_len: longest joke (and moderator edit) in characters.
        retry_s: seconds between model attempts while it is down.
        max_llm_failures: consecutive model failures before giving up.
        max_screen_retries: drafts screened out for one review attempt before giving up.
    """
    for name, value in (
        ("max_attempts", max_attempts),
        ("max_llm_failures", max_llm_failures),
        ("max_screen_retries", max_screen_retries),
    ):
        if value < 1:
            raise ValueError(f"{name} must be at least 1")
    draft = DraftJoke(
        llm,
        joke_max_len=joke_max_len,
        max_screen_retries=max_screen_retries,
        max_llm_failures=max_llm_failures,
        retry_s=retry_s,
    )
    review = AwaitReview(
        max_attempts=max_attempts, review_timeout_s=review_timeout_s, joke_max_len=joke_max_len
    )
    wait = WaitForModel(retry_s=retry_s)
    publish = PublishJoke()
    draft - DRAFTED >> review
    draft - SCREENED >> draft
    draft - NO_CLEAN_JOKE >> ReportNoCleanJoke()
    draft - UNAVAILABLE >> wait
    draft - MODEL_DOWN >> ReportModelDown()
    review - APPROVE >> publish
    review - EDIT >> publish
    review - REJECT >> draft
    review - GIVE_UP >> GiveUp()
    review - TIMEOUT >> ExpireRequest()
    wait - RETRY >> draft
    wait - CANCEL >> CancelRequest()
    return JokeFlow(start=draft)


def _avoid_line(rejected: RejectedJoke) -> str:
    reason = rejected["reason"]
    return f"{rejected['text']} (moderator: {reason})" if reason else rejected["text"]


def _fields(shared: JokeState) -> dict[str, Any]:
    return {
        "topic": shared["topic"],
        "requester": shared["requester"],
        "reason": shared["llm_error"],
        "failures": shared["llm_failures"],
        "drafts": shared["attempt"],
    }


def _emit(kind: EffectKind, text: str) -> None:
    emit(Effect(kind.value, {"text": text}))


def _audit(event: str, **fields: Any) -> None:
    emit(Effect(AUDIT, {"event": event, **fields}))
