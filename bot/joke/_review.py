"""The waiting nodes: the moderators' review, and the timer while the model is down."""

from bot.joke._state import (
    APPROVE,
    CANCEL,
    EDIT,
    GIVE_UP,
    REJECT,
    RETRY,
    RETRY_WAIT,
    REVIEW_WAIT,
    TIMEOUT,
    JokeState,
    audit,
)
from bot.joke.hygiene import clean_joke
from bot.models import DraftEvent, DraftStage
from bot.ports import DraftProgress
from bot.review import NEEDS, Card
from flows import Decision, DecisionNotAllowed, Node, Wait


class AwaitReview(Node):
    """Show the draft to the moderators and apply their decision."""

    node_id = "await_review"

    def __init__(
        self,
        *,
        max_attempts: int,
        review_timeout_s: float | None,
        joke_max_len: int,
        progress: DraftProgress | None = None,
    ) -> None:
        super().__init__()
        self.max_attempts = max_attempts
        self.review_timeout_s = review_timeout_s
        self.joke_max_len = joke_max_len
        self.progress = progress

    def prep(self, shared: JokeState) -> None:
        # The runtime commits a step before every node: the draft is durable by now, and the
        # card's wait is committed next by this same run (after a crash, by its resumption).
        if self.progress is not None:
            event = DraftEvent(DraftStage.FINISHED, shared["attempt"] + 1, shared["draft"])
            self.progress.publish(event)

    def post(self, shared: JokeState, prep_res: None, exec_res: None) -> Wait:
        shared["attempt"] += 1
        card = Card(
            topic=shared["topic"],
            draft=shared["draft"],
            attempt=shared["attempt"],
            max_attempts=self._limit(shared),
            model_label=shared["model_label"],
            requester=shared["requester"],
        )
        if "requester_platform" in shared:  # runs started before these fields have neither
            card["requester_name"] = shared.get("requester_name", "")
            card["requester_platform"] = shared["requester_platform"]
        audit(
            "review_requested",
            attempt=shared["attempt"],
            draft=shared["draft"],
            model_id=shared["model_id"],
            screen=shared.get("screen", {}),
        )
        return Wait(
            REVIEW_WAIT,
            (APPROVE, REJECT, EDIT, TIMEOUT),
            payload=card,
            timeout_s=self.review_timeout_s,
            on_timeout=TIMEOUT,
            needs=NEEDS,
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
