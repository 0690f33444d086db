"""A small review flow for runtime tests, built from flows.* only.

draft -> review (Wait "review": approve / reject / edit / timeout) -> publish; reject loops back
to a new draft (rejected drafts are remembered and never proposed again); timeout and too many
attempts end with a notice. A topic of ``boom`` makes drafting raise (an unexpected failure).
"""

import asyncio
from typing import Any

from bot.review import NEEDS, REVIEW, ReviewAction
from flows import AsyncFlow, AsyncNode, Decision, Effect, Wait, emit

REVIEW_ACTIONS = tuple(ReviewAction)


def normalise(text: str) -> str:
    """Lowercase, single spaces, no trailing punctuation: drafts equal up to this are equal."""
    return " ".join(text.lower().split()).rstrip(".!?")


class Drafter:
    """Scripted stand-in for the LLM: replies in order, then numbered drafts; counts calls."""

    def __init__(self, *replies: str) -> None:
        self.replies = list(replies)
        self.calls = 0
        self.gate: asyncio.Event | None = None  # set one to make drafting wait (a slow LLM)
        self.blocked = 0

    async def wait_for_gate(self) -> None:
        """Block while a test holds the gate closed."""
        if self.gate is not None:
            self.blocked += 1
            await self.gate.wait()

    def draft(self, topic: str) -> str:
        self.calls += 1
        if self.replies:
            return self.replies.pop(0)
        return f"A joke about {topic}, take {self.calls}."


class DraftJoke(AsyncNode):
    """Ask the drafter for a draft that was not rejected before."""

    node_id = "draft"

    def __init__(self, drafter: Drafter) -> None:
        super().__init__()
        self.drafter = drafter

    async def prep_async(self, shared: dict[str, Any]) -> tuple[str, list[str]]:
        return shared["topic"], [normalise(t) for t in shared.get("rejected", [])]

    async def exec_async(self, prep_res: tuple[str, list[str]]) -> str | None:
        topic, rejected = prep_res
        await self.drafter.wait_for_gate()
        if topic == "boom":
            raise RuntimeError("the drafting model exploded")
        for _ in range(3):
            text = self.drafter.draft(topic)
            if normalise(text) not in rejected:
                return text
        return None

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: str | None) -> str:
        shared["attempt"] = shared.get("attempt", 0) + 1
        if exec_res is None or shared["attempt"] > shared.get("max_attempts", 3):
            return "give_up"
        shared["draft"] = exec_res
        emit(Effect("audit", {"event": "drafted", "attempt": shared["attempt"]}))
        return "default"


class AwaitReview(AsyncNode):
    """Suspend on a review card; a reject remembers the draft."""

    node_id = "review"

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> Wait:
        card = {
            "topic": shared["topic"],
            "draft": shared["draft"],
            "attempt": shared["attempt"],
            "max_attempts": shared.get("max_attempts", 3),
            "model_label": "scripted",
            "requester": shared.get("requester", ""),
        }
        timeout_s = shared.get("timeout_s")
        return Wait(REVIEW, REVIEW_ACTIONS, payload=card, timeout_s=timeout_s, needs=NEEDS)

    def on_decision(self, shared: dict[str, Any], decision: Decision) -> str:
        shared["decision"] = decision.to_json()
        if decision.action == "reject":
            shared.setdefault("rejected", []).append(shared["draft"])
        if decision.action == "edit":
            shared["draft"] = str(decision.data["text"])
        return decision.action


class PublishJoke(AsyncNode):
    """Emit the public post and tell the requester."""

    node_id = "publish"

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        payload = {
            "text": shared["draft"],
            "topic": shared["topic"],
            "requester": shared.get("requester", ""),
        }
        emit(Effect("publish", payload))
        emit(Effect("notify", {"text": "Your joke was approved and posted."}))
        shared["outcome"] = "published"


class NotifyEnd(AsyncNode):
    """Tell the requester the run ended without a joke."""

    def __init__(self, outcome: str, text: str) -> None:
        super().__init__()
        self.outcome, self.text = outcome, text
        self.node_id = outcome

    async def post_async(self, shared: dict[str, Any], prep_res: Any, exec_res: Any) -> None:
        emit(Effect("notify", {"text": self.text}))
        shared["outcome"] = self.outcome


class ReviewFlow(AsyncFlow):
    """The test flow's identity in checkpoints."""

    flow_id = "review-test"


def build_review_flow(drafter: Drafter) -> ReviewFlow:
    """draft -> review -> publish / draft again / expired / gave up."""
    draft, review, publish = DraftJoke(drafter), AwaitReview(), PublishJoke()
    expired = NotifyEnd("expired", "Nobody reviewed your joke in time.")
    gave_up = NotifyEnd("gave_up", "No acceptable joke this time.")
    draft >> review
    draft - "give_up" >> gave_up
    review - "approve" >> publish
    review - "edit" >> publish
    review - "reject" >> draft
    review - "timeout" >> expired
    return ReviewFlow(draft)


def initial_state(
    topic: str = "cats", *, timeout_s: float | None = 3600.0, max_attempts: int = 3
) -> dict[str, Any]:
    """The shared store a run starts with."""
    return {
        "topic": topic,
        "requester": "fake:u1",
        "timeout_s": timeout_s,
        "max_attempts": max_attempts,
    }
