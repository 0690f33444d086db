"""Platform-neutral review logic every adapter shares: buttons, forms, answers, decided cards.

Each platform package renders these in its own markup (Discord components, Slack Block Kit,
terminal verbs); what a card offers, what each button does and what users are told lives here,
once. Adapters may import this module and the ``bot`` contracts, never each other.
"""

import asyncio
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TypeVar

from adapters._text import one_line
from bot.models import DecideResult, DecideStatus, platform_name
from bot.ports import EventSink
from bot.review import REVIEW, Card, CardUpdate, ReviewAction, outcome_line

T = TypeVar("T")

BUTTON_PREFIX = "jk:v1"
REASON = "reason"  # a button only: it opens the reason form, whose submit decides REJECT

GENERIC_FAILURE = "Something went wrong on our side; please try again."
UNAVAILABLE = "This draft is no longer available."
EMPTY_EDIT = "The joke text is empty, so nothing was changed."
EMPTY_REASON = "Please give a reason, or use Reject."
_CLOSED = {
    "decided": "This draft has already been decided.",
    "expired": "This draft has expired: no moderator decided in time.",
    "cancelled": "This draft was cancelled.",
}


def button_id(token: str, action: str) -> str:
    """The id a platform button carries: ``jk:v1:<token>:<action>`` (at most 100 chars)."""
    return f"{BUTTON_PREFIX}:{token}:{action}"


def parse_button_id(custom_id: str) -> tuple[str, str] | None:
    """``(token, action)`` from a button id, or None for ids that are not ours."""
    parts = custom_id.split(":")
    if len(parts) != 4 or f"{parts[0]}:{parts[1]}" != BUTTON_PREFIX:
        return None
    token, action = parts[2], parts[3]
    if not token.isalnum() or not action.replace("_", "").isalnum():
        return None
    return token, action


@dataclass(frozen=True)
class Form:
    """What a button opens: one required text field whose value becomes the decision's data."""

    kind: str  # the form's own id suffix, e.g. Discord's ``jk:v1:<token>:editmodal``
    action: ReviewAction  # what a submit decides
    field: str  # the decision data key, also the input's id
    title: str
    label: str
    submit: str
    max_length: int
    empty: str  # the answer to a blank submit
    prefilled: bool = False  # opens with the current draft in the field

    def data(self, value: str) -> dict[str, str] | None:
        """The decision data for a submitted ``value``, or None when it is blank."""
        text = value.strip()
        return {self.field: text} if text else None


EDIT_FORM = Form(
    "editmodal",
    ReviewAction.EDIT,
    "text",
    "Edit joke",
    "Joke text",
    "Approve edited",
    2000,
    EMPTY_EDIT,
    prefilled=True,
)
REASON_FORM = Form(
    "reasonmodal",
    ReviewAction.REJECT,
    "reason",
    "Reject with reason",
    "Why reject it? (shown on the card)",
    "Reject",
    300,
    EMPTY_REASON,
)
FORMS = {form.kind: form for form in (EDIT_FORM, REASON_FORM)}


@dataclass(frozen=True)
class Button:
    """One button of a pending review card."""

    action: str  # what its id carries: a ReviewAction, or REASON
    label: str
    emoji: str
    form: Form | None = None  # the form it opens; None: the click decides ``action`` at once


BUTTONS = (
    Button(ReviewAction.APPROVE, "Approve", "✅"),
    Button(ReviewAction.REJECT, "Reject", "❌"),
    Button(REASON, "Reject with reason", "💬", REASON_FORM),
    Button(ReviewAction.EDIT, "Edit", "✏️", EDIT_FORM),
)
BUTTON_ACTIONS = tuple(b.action for b in BUTTONS)
_BY_ACTION = {b.action: b for b in BUTTONS}


def button_for(action: str) -> Button | None:
    """The card button whose id carries ``action``, or None for an action no card shows."""
    return _BY_ACTION.get(action)


@dataclass(frozen=True)
class Prefill:
    """What opening a form found: the draft to prefill, or why the form must not open."""

    draft: str = ""
    refusal: str | None = None


async def prefill(sink: EventSink, token: str) -> Prefill:
    """The review behind ``token``: its draft while it is pending, else what to tell the clicker."""
    info = await sink.wait_info(token)
    if info is None or info.kind != REVIEW:
        return Prefill(refusal=UNAVAILABLE)
    if info.status != "pending":
        return Prefill(refusal=_CLOSED.get(info.status, UNAVAILABLE))
    return Prefill(draft=str(info.payload.get("draft") or ""))


def answer(result: DecideResult | None) -> str:
    """What to tell whoever clicked when the decision was not applied (None: the sink failed)."""
    if result is None:
        return GENERIC_FAILURE
    if result.message:
        return result.message
    who = f" by {result.decided_by}" if result.decided_by else ""
    return f"Not applied ({result.status.value}){who}."


def settled(result: DecideResult | None) -> bool:
    """True when the decision stands: applied now, or by an earlier delivery of the same click."""
    return result is not None and result.status in (DecideStatus.APPLIED, DecideStatus.DUPLICATE)


def shown_draft(outcome: str, draft: str, text: str) -> str:
    """The joke a decided card shows: an edit's new text (what was published), else the draft."""
    return text if outcome == ReviewAction.EDIT and text else draft


def decided_card(update: CardUpdate) -> Card:
    """The card of a ``review.update``, showing the joke as decided."""
    card = update["card"]
    text = shown_draft(update["outcome"], card.get("draft", ""), update.get("text", ""))
    shown: Card = {**card, "draft": text}
    return shown


def requester_elsewhere(card: Card, here: str) -> tuple[str, str] | None:
    """``(name, platform)`` of a requester who asked on another platform than ``here``.

    A card shows them as "Ana (Discord)": the name is plain text for the renderer to escape
    and clip (the other platform's mention syntax would mean nothing here, or ping someone
    else), the platform's name is always shown in full. None when the request came from
    ``here`` or the card does not say where it came from: the renderer then shows
    ``card["requester"]`` as its platform shows people (a Slack mention, a Discord name).
    """
    origin = card.get("requester_platform") or ""
    if not origin or origin == here:
        return None
    name = one_line(card.get("requester_name") or card.get("requester") or "") or "someone"
    return name, platform_name(origin)


def decider_elsewhere(actor: str, name: str, via: str, here: str) -> str | None:
    """The plain name of a decider on another platform than ``here`` (``via`` names it).

    ``name`` is a ``review.update``'s ``actor_name`` (``actor`` when it has none). None when
    the decision came from ``here`` (or nobody said where): the renderer shows ``actor`` as
    its platform shows people.
    """
    if not via or via == platform_name(here):
        return None
    return one_line(name or actor) or "a moderator"


def status_line(update: CardUpdate, here: str = "") -> str:
    """The status line of a ``review.update``, e.g. ``✅ Approved by alice via Slack``.

    On platform ``here``, a decider from another platform is named by their plain name.
    """
    actor = update.get("actor") or ""
    via, name = update.get("via") or "", update.get("actor_name") or ""
    actor = decider_elsewhere(actor, name, via, here) or actor or "a moderator"
    return outcome_line(update["outcome"], actor, update.get("reason") or "", update.get("via", ""))


async def within_deadline(
    work: Awaitable[T], budget_s: float, on_late: Callable[[], Awaitable[object]]
) -> tuple[T, bool]:
    """``work``'s result, and whether it outlasted ``budget_s``.

    Platforms want a first answer within 3 s. When the work takes longer, ``on_late()`` (the
    platform's early ack or defer) is awaited at the budget and the work carries on.
    """
    task = asyncio.ensure_future(work)
    done, _ = await asyncio.wait({task}, timeout=budget_s)
    if not done:
        await on_late()
    return await task, not done
