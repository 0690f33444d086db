"""The review vocabulary: the wait kind that gets a card, its actions, and the card payloads.

Defined once and shared by the flow that asks for a review (``bot.joke``), the runtime that
posts and updates the cards, and every adapter that renders them. A review is a
:class:`flows.Wait` of kind :data:`REVIEW` whose payload is a :class:`Card`; the runtime posts a
:class:`CardPost` when the wait opens and a :class:`CardUpdate` when it closes.
"""

from collections.abc import Mapping
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

REVIEW = "review"  # the Wait kind the runtime posts a card for


class ReviewAction(StrEnum):
    """What may decide a review: a moderator's three decisions, or the timer.

    Every surface offers four buttons: Approve, Reject, Reject with reason and Edit; both
    rejections decide REJECT (the second with a reason).
    """

    APPROVE = "approve"
    REJECT = "reject"  # data: {"reason": ...}; "" or absent for a plain Reject
    EDIT = "edit"  # data: {"text": ...}, required (see NEEDS)
    TIMEOUT = "timeout"  # decided by the runtime when the wait expires


# what a person may decide from any surface; TIMEOUT is the runtime's alone
MODERATOR_ACTIONS = (ReviewAction.APPROVE, ReviewAction.REJECT, ReviewAction.EDIT)

# the decision data each action needs; a Wait carries it so the runtime stays flow-agnostic
NEEDS: dict[str, tuple[str, ...]] = {ReviewAction.EDIT: ("text",)}


class Card(TypedDict):
    """What a review card shows: the draft and where it stands.

    ``requester`` is how the request's own platform shows them (a Slack mention); a card on
    another platform shows ``requester_name`` and ``requester_platform`` instead
    (``adapters._review.requester_elsewhere``). Both are absent on cards made before them.
    """

    topic: str
    draft: str
    attempt: int
    max_attempts: int
    model_label: str
    requester: str
    requester_name: NotRequired[str]  # a plain display name, no markup
    requester_platform: NotRequired[str]  # the platform the request came from


class CardPost(TypedDict):
    """``review.post``: show ``card`` with buttons carrying ``token`` on ``surface``."""

    token: str
    card: Card
    surface: NotRequired[dict[str, str]]  # bot.models.Surface.to_json(); absent before queues
    replaces: NotRequired[str]  # a re-post: the review.post whose message was deleted
    repost: NotRequired[int]  # a re-post: 1 for the first, 2 for a re-post of that ...


class CardUpdate(TypedDict):
    """``review.update``: the card at ``card_ref`` was decided; show the outcome, no buttons."""

    token: str
    card: Card
    outcome: str  # a ReviewAction, or "cancel"
    actor: str  # display name of who decided (as their own platform shows them)
    actor_name: NotRequired[str]  # their plain name, for the other platforms' cards
    reason: str  # a rejection's reason, or ""
    text: str  # an edit's new text, or ""
    via: NotRequired[str]  # the platform the decision came from ("" for the timer)
    surface: NotRequired[dict[str, str]]  # which of the wait's cards this updates
    copy: NotRequired[str]  # the review.post it updates, when a surface shows several copies


def card_update(
    token: str,
    card: Card,
    outcome: str,
    actor: str,
    data: Mapping[str, Any],
    *,
    via: str = "",
    surface: Mapping[str, str] | None = None,
    actor_name: str = "",
) -> CardUpdate:
    """The update payload for a decided card (``data`` is the decision's data mapping)."""
    update = CardUpdate(
        token=token,
        card=card,
        outcome=outcome,
        actor=actor,
        reason=str(data.get("reason", "")),
        text=str(data.get("text", "")),
        via=via,
    )
    if surface is not None:
        update["surface"] = dict(surface)
    if actor_name:
        update["actor_name"] = actor_name
    return update


_LINES = {
    ReviewAction.APPROVE: "✅ Approved by {actor}",
    ReviewAction.EDIT: "✏️ Edited and approved by {actor}",
    ReviewAction.REJECT: "❌ Rejected by {actor}",
    ReviewAction.TIMEOUT: "⌛ Expired: no moderator decided in time",
    "cancel": "🚫 Cancelled",
}


def outcome_line(outcome: str, actor: str, reason: str = "", via: str = "") -> str:
    """The status line a decided review card shows, e.g. ``✅ Approved by alice via Slack``.

    ``actor`` and ``reason`` are inserted as given: renderers escape them for their markup.
    ``via`` names the platform the decision came from (shown when another surface decided).
    """
    line = _LINES.get(outcome, "Decided ({outcome}) by {actor}")
    text = line.format(actor=actor, outcome=outcome)
    if via and "{actor}" in line:
        text += f" via {via}"
    if outcome == ReviewAction.REJECT and reason:
        text += f": {reason}"
    return text
