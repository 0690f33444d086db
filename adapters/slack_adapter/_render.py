"""How jokebot looks on Slack: the review card and its decided form, the form modals.

Every user- or moderator-supplied string (topic, draft, model label, names, reasons, edits) is
cleaned, escaped and clipped by :mod:`adapters.slack_adapter._markup` on its way in; the only
live markup in a card is the requester's or decider's mention, built from a validated user id.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from adapters._review import Form, decided_card, decider_elsewhere, requester_elsewhere
from adapters._text import clean, clip
from adapters.slack_adapter._buttons import (
    ACTIONS_BLOCK,
    CALLBACKS,
    INPUT_BLOCKS,
    Block,
    actions_block,
)
from adapters.slack_adapter._config import PLATFORM
from adapters.slack_adapter._markup import (
    NAME_MAX,
    TEXT_OBJECT_MAX,
    escaped,
    mrkdwn,
    plain,
    user,
)
from bot.review import Card, CardUpdate, outcome_line

HEAD_BLOCK = "jokebot_head"
DRAFT_BLOCK = "jokebot_draft"
META_BLOCK = "jokebot_meta"
STATUS_BLOCK = "jokebot_status"
TOPIC_MAX = 200  # the flow caps topics at 100; an escaped topic is longer
LABEL_MAX = 200
REASON_MAX = 500  # the reason form takes 300 characters; escaping lengthens them


def card_text(card: Card) -> str:
    """Notification fallback text of a review card (escaped)."""
    topic = escaped(str(card.get("topic", "")), TOPIC_MAX, multiline=False)
    draft = escaped(str(card.get("draft", "")), TEXT_OBJECT_MAX)
    return f"Joke for review about “{topic}”: {draft}"


def card_blocks(card: Card, *, token: str | None, status: str = "") -> list[Block]:
    """The review card: topic, requester, draft, attempt, model; buttons when ``token`` is set.

    ``status`` is an already escaped status line (:func:`status`).
    """
    topic = escaped(str(card.get("topic", "")), TOPIC_MAX, multiline=False)
    head = f"*Joke for review* · topic *{topic}* · requested by {_requester(card)}"
    label = escaped(str(card.get("model_label", "")), LABEL_MAX, multiline=False)
    meta = f"Draft {_int(card.get('attempt'), 1)} of {_int(card.get('max_attempts'), 1)} · {label}"
    blocks: list[Block] = [
        {"type": "section", "block_id": HEAD_BLOCK, "text": mrkdwn(head)},
        # plain_text is never parsed, so the draft shows verbatim and prefills the Edit modal.
        {"type": "section", "block_id": DRAFT_BLOCK, "text": plain(str(card.get("draft", "")))},
        {"type": "context", "block_id": META_BLOCK, "elements": [mrkdwn(meta)]},
    ]
    if token is not None:
        blocks.append(actions_block(token))
    if status:
        blocks.append(status_block(status))
    return blocks


def _requester(card: Card) -> str:
    elsewhere = requester_elsewhere(card, PLATFORM)
    if elsewhere is None:
        return user(str(card.get("requester") or "?"))
    name, platform = elsewhere  # "Ana (Discord)": never a mention, whatever the name looks like
    return f"{escaped(name, NAME_MAX, multiline=False) or 'someone'} ({platform})"


def status(outcome: str, actor: str, reason: str = "", via: str = "", name: str = "") -> str:
    """The escaped status line of a decided card, e.g. ``✅ Approved by Mo via Discord``.

    A decider from another platform (``via`` names it) is shown by ``name`` (else ``actor``)
    as plain text: a Discord name that looks like ``<@U…>`` must not ping anyone here.
    """
    shown_reason = escaped(reason, REASON_MAX, multiline=False)
    shown_via = escaped(via, NAME_MAX, multiline=False)
    elsewhere = decider_elsewhere(actor, name, via, PLATFORM)
    if elsewhere is not None:
        shown = escaped(elsewhere, NAME_MAX, multiline=False) or "a moderator"
    else:
        shown = user(actor or "a moderator")
    return outcome_line(outcome, shown, shown_reason, shown_via)


def decided(update: CardUpdate) -> tuple[str, list[Block]]:
    """``(text, blocks)`` of the card at a ``review.update``: no buttons, the outcome stamped."""
    card = decided_card(update)
    line = status(
        update["outcome"],
        update.get("actor") or "",
        update.get("reason") or "",
        update.get("via") or "",
        update.get("actor_name") or "",
    )
    topic = escaped(str(card.get("topic", "")), TOPIC_MAX, multiline=False)
    return f"{line}: {topic}", card_blocks(card, token=None, status=line)


def status_block(line: str) -> Block:
    """The decided card's status line, e.g. ``✅ Approved by <@U1>`` (already escaped)."""
    return {"type": "context", "block_id": STATUS_BLOCK, "elements": [mrkdwn(line)]}


def decided_blocks(blocks: Sequence[Mapping[str, Any]], line: str) -> list[Block]:
    """A posted card without its buttons (and any older status), stamped with ``line``."""
    kept = [dict(b) for b in blocks if b.get("block_id") not in (ACTIONS_BLOCK, STATUS_BLOCK)]
    return [*kept, status_block(line)]


def draft_from_blocks(blocks: Sequence[Mapping[str, Any]]) -> str | None:
    """The draft as shown on a posted card, or None when the card is not ours."""
    for block in blocks:
        if block.get("block_id") == DRAFT_BLOCK:
            text = block.get("text")
            if isinstance(text, Mapping) and isinstance(text.get("text"), str):
                return str(text["text"]).strip()
    return None


def form_modal(form: Form, token: str, draft: str = "") -> Block:
    """A form as a modal; ``private_metadata`` is the token only, ``draft`` its prefill."""
    element: Block = {
        "type": "plain_text_input",
        "action_id": form.field,
        "multiline": True,
        "max_length": form.max_length,
    }
    if prefill := clip(clean(draft), form.max_length):
        element["initial_value"] = prefill
    return {
        "type": "modal",
        "callback_id": CALLBACKS[form.kind],
        "private_metadata": token,
        "title": _plain(form.title),
        "submit": _plain(form.submit),
        "close": _plain("Cancel"),
        "blocks": [
            {
                "type": "input",
                "block_id": INPUT_BLOCKS[form.kind],
                "label": _plain(form.label),
                "element": element,
            }
        ],
    }


def _int(value: object, default: int) -> int:
    return value if isinstance(value, int) else default


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}
