"""The drafting node: ask the model for a joke and screen it before anyone sees it.

With a :class:`bot.ports.DraftProgress` the model streams and watchers follow the draft as it
is written (:class:`DraftRelay`); only ``post`` changes the state, so what is committed is
exactly what it was without streaming.
"""

from dataclasses import dataclass, field
from typing import Any

from bot.errors import LLMError
from bot.joke import prompts
from bot.joke._progress import DraftRelay
from bot.joke._state import (
    DRAFTED,
    MODEL_DOWN,
    NO_CLEAN_JOKE,
    SCREENED,
    UNAVAILABLE,
    JokeState,
    RejectedJoke,
    audit,
    emit_alert,
    emit_text,
)
from bot.joke.hygiene import clean_joke, is_near_duplicate, looks_unfinished
from bot.joke.screen import DEFAULT_THRESHOLD, Screen, ScreenPolicy
from bot.models import DraftEvent, DraftStage, EffectKind
from bot.ports import LLM, ChatMessage, Classifier, DraftProgress
from flows import AsyncNode


@dataclass(frozen=True)
class DraftRequest:
    """What one LLM call needs: messages, seed, the jokes a draft must not resemble, the screen."""

    messages: tuple[ChatMessage, ...]
    seed: int
    known: tuple[str, ...]
    policy: ScreenPolicy = field(default_factory=ScreenPolicy)
    attempt: int = 1  # the review attempt this draft is for


@dataclass(frozen=True)
class DraftResult:
    """A cleaned draft and why it was screened out ("" = fine), or the model's error.

    ``screen`` is the screen's result (:meth:`bot.joke.screen.ScreenResult.to_json`); empty
    when the draft was unusable before the screen ran (empty, unfinished).
    """

    text: str = ""
    problem: str = ""
    detail: str = ""
    error: str = ""
    screen: dict[str, Any] = field(default_factory=dict)


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
        classifier: Classifier | None = None,
        screen_threshold: float = DEFAULT_THRESHOLD,
        progress: DraftProgress | None = None,
    ) -> None:
        super().__init__(max_retries=1)  # the provider retries; no second retry layer here
        self.llm = llm
        self.progress = progress
        self.screen = Screen(classifier)
        self.screen_threshold = screen_threshold  # for runs started before scopes had one
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
        policy = ScreenPolicy(
            tuple(shared.get("screen_words", ())),
            shared.get("screen_threshold", self.screen_threshold),
        )
        seed += shared["screen_tries"]
        return DraftRequest(tuple(messages), seed, tuple(known), policy, shared["attempt"] + 1)

    async def exec_async(self, prep_res: DraftRequest) -> DraftResult:
        relay = None
        if self.progress is not None:
            words = prep_res.policy.blocked_words
            relay = DraftRelay(self.progress, prep_res.attempt, self.joke_max_len, words)
            relay.start()
        raw = await self.llm.complete(
            prep_res.messages,
            temperature=prompts.TEMPERATURE,
            max_tokens=prompts.MAX_TOKENS,
            seed=prep_res.seed,
            on_delta=relay,
        )
        if relay is not None:
            relay.end()
        text = clean_joke(raw, self.joke_max_len)
        if not text:
            return DraftResult(text, "empty")
        if looks_unfinished(text):
            return DraftResult(text, "unfinished")
        local = await self.screen.local(text, prep_res.policy)
        if local.fired:
            return DraftResult(text, local.fired[0], local.detail, screen=local.to_json())
        if is_near_duplicate(text, prep_res.known):
            return DraftResult(text, "duplicate", screen=local.to_json())
        result = await self.screen.moderated(local, text, self.llm)
        if result.fired:
            return DraftResult(text, result.fired[0], screen=result.to_json())
        return DraftResult(text, screen=result.to_json())

    async def exec_fallback_async(self, prep_res: DraftRequest, exc: Exception) -> DraftResult:
        if not isinstance(exc, LLMError):
            raise exc  # a bug, not an outage: let it surface
        return DraftResult(error=str(exc) or exc.kind)

    async def post_async(self, shared: JokeState, prep_res: DraftRequest, exec_res: Any) -> str:
        result: DraftResult = exec_res
        if result.error:
            action = self._model_failed(shared, result.error)
            self._tell(DraftStage.FAILED, prep_res, result.error, final=action == MODEL_DOWN)
            return action
        shared["llm_failures"], shared["llm_error"] = 0, ""
        if result.problem:
            action = self._screened_out(shared, prep_res, result)
            self._tell(DraftStage.SCREENED, prep_res, result.problem, final=action != SCREENED)
            return action
        shared["draft"], shared["screen_tries"] = result.text, 0
        shared["screen"] = result.screen
        shared["model_id"], shared["model_label"] = self.llm.model_id, self.llm.label
        return DRAFTED

    def _tell(self, stage: DraftStage, req: DraftRequest, detail: str, *, final: bool) -> None:
        if self.progress is not None:
            self.progress.publish(DraftEvent(stage, req.attempt, detail=detail, final=final))

    def _model_failed(self, shared: JokeState, reason: str) -> str:
        shared["llm_failures"] += 1
        shared["llm_error"] = reason
        failures = shared["llm_failures"]
        audit("llm_error", reason=reason, failures=failures, attempt=shared["attempt"] + 1)
        if failures >= self.max_llm_failures:
            return MODEL_DOWN
        if failures == 1:  # tell people once per outage, not on every retry
            emit_text(EffectKind.NOTIFY, prompts.MODEL_UNAVAILABLE.format(reason=reason))
            emit_alert(prompts.ALERT_MODEL_DOWN, shared, retry_s=self.retry_s)
        return UNAVAILABLE

    def _screened_out(self, shared: JokeState, req: DraftRequest, result: DraftResult) -> str:
        shared["screened_out"] += 1
        shared["screen_tries"] += 1
        audit(
            "screened_out",
            count=shared["screened_out"],
            reason=result.problem,
            detail=result.detail,
            text=result.text,
            attempt=shared["attempt"] + 1,
            tries=shared["screen_tries"],
            seed=req.seed,
            model_id=self.llm.model_id,
            screen=result.screen,
        )
        return NO_CLEAN_JOKE if shared["screen_tries"] >= self.max_screen_retries else SCREENED


def _avoid_line(rejected: RejectedJoke) -> str:
    """One line of the prompt's avoid list: the rejected joke and the moderator's reason."""
    reason = rejected["reason"]
    return f"{rejected['text']} (moderator: {reason})" if reason else rejected["text"]
