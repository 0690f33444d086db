"""Block Kit rendering: the review card, its decided form, the Edit and reason modals."""

from collections.abc import Mapping, Sequence
from typing import Any

from adapters._review import button_id

HEAD_BLOCK = "jokebot_head"
DRAFT_BLOCK = "jokebot_draft"
META_BLOCK = "jokebot_meta"
ACTIONS_BLOCK = "jokebot_actions"
STATUS_BLOCK = "jokebot_status"

# "reason" is adapter-only: it opens the reason modal, whose submit decides "reject".
ACTION_IDS = {
    "approve": "jokebot_approve",
    "reject": "jokebot_reject",
    "reason": "jokebot_reason",
    "edit": "jokebot_edit",
}
ACTION_PATTERN = r"^jokebot_(approve|reject|reason|edit)$"

EDIT_CALLBACK = "jokebot_edit_modal"
REASON_CALLBACK = "jokebot_reason_modal"
EDIT_BLOCK = "jokebot_edit_text"
EDIT_ACTION = "text"
REASON_BLOCK = "jokebot_reason"
REASON_ACTION = "reason"

PLAIN_TEXT_MAX = 3000  # Slack's limit for a section's text and a text input
Block = dict[str, Any]


def escape(text: str) -> str:
    """Escape user text for mrkdwn, so a topic like ``<!channel>`` cannot ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def card_text(card: Mapping[str, Any]) -> str:
    """Notification fallback text of a review card."""
    return f"Joke for review about “{card.get('topic', '')}”: {card.get('draft', '')}"


def card_blocks(card: Mapping[str, Any], *, token: str | None, status: str = "") -> list[Block]:
    """The review card: topic, requester, draft, attempt, model; buttons when ``token`` is set."""
    topic = escape(str(card.get("topic", "")))
    # The requester is our own "<@U…>" mention, so it is not escaped.
    head = f"*Joke for review* · topic *{topic}* · requested by {card.get('requester', '?')}"
    meta = (
        f"Draft {card.get('attempt', 1)} of {card.get('max_attempts', '?')}"
        f" · {escape(str(card.get('model_label', '')))}"
    )
    draft = str(card.get("draft", "")) or " "
    blocks: list[Block] = [
        {"type": "section", "block_id": HEAD_BLOCK, "text": {"type": "mrkdwn", "text": head}},
        {
            "type": "section",
            "block_id": DRAFT_BLOCK,
            # plain_text keeps the draft verbatim, so the Edit modal can be prefilled from it.
            "text": {"type": "plain_text", "text": draft[:PLAIN_TEXT_MAX], "emoji": True},
        },
        {"type": "context", "block_id": META_BLOCK, "elements": [_mrkdwn(meta)]},
    ]
    if token is not None:
        blocks.append(actions_block(token))
    if status:
        blocks.append(status_block(status))
    return blocks


def actions_block(token: str) -> Block:
    """Approve / Reject / Reject with reason / Edit; each value carries only the button id."""

    def button(action: str, label: str, style: str | None) -> Block:
        element: Block = {
            "type": "button",
            "action_id": ACTION_IDS[action],
            "text": {"type": "plain_text", "text": label},
            "value": button_id(token, action),
        }
        if style:
            element["style"] = style
        return element

    return {
        "type": "actions",
        "block_id": ACTIONS_BLOCK,
        "elements": [
            button("approve", "Approve", "primary"),
            button("reject", "Reject", "danger"),
            button("reason", "Reject with reason…", None),
            button("edit", "Edit…", None),
        ],
    }


def status_block(status: str) -> Block:
    """The decided card's status line, e.g. ``✅ Approved by <@U1>``."""
    return {"type": "context", "block_id": STATUS_BLOCK, "elements": [_mrkdwn(status)]}


def decided_blocks(blocks: Sequence[Mapping[str, Any]], status: str) -> list[Block]:
    """A posted card without its buttons (and any older status), stamped with ``status``."""
    kept = [dict(b) for b in blocks if b.get("block_id") not in (ACTIONS_BLOCK, STATUS_BLOCK)]
    return [*kept, status_block(status)]


def draft_from_blocks(blocks: Sequence[Mapping[str, Any]]) -> str | None:
    """The draft as shown on a posted card, or None when the card is not ours."""
    for block in blocks:
        if block.get("block_id") == DRAFT_BLOCK:
            text = block.get("text")
            if isinstance(text, Mapping) and isinstance(text.get("text"), str):
                return str(text["text"]).strip()
    return None


def edit_modal(token: str, draft: str) -> Block:
    """The Edit modal, prefilled with the draft; ``private_metadata`` is the token only."""
    element: Block = {
        "type": "plain_text_input",
        "action_id": EDIT_ACTION,
        "multiline": True,
        "max_length": PLAIN_TEXT_MAX,
    }
    if draft:
        element["initial_value"] = draft[:PLAIN_TEXT_MAX]
    return _modal(
        EDIT_CALLBACK,
        token,
        "Edit the joke",
        "Approve edited",
        {"type": "input", "block_id": EDIT_BLOCK, "label": _plain("Joke"), "element": element},
    )


def reason_modal(token: str) -> Block:
    """The Reject-with-reason modal; the reason is required (plain Reject needs none)."""
    element: Block = {"type": "plain_text_input", "action_id": REASON_ACTION, "max_length": 500}
    return _modal(
        REASON_CALLBACK,
        token,
        "Reject with reason",
        "Reject",
        {
            "type": "input",
            "block_id": REASON_BLOCK,
            "label": _plain("Why reject it? (shown on the card)"),
            "element": element,
        },
    )


def _modal(callback_id: str, token: str, title: str, submit: str, block: Block) -> Block:
    return {
        "type": "modal",
        "callback_id": callback_id,
        "private_metadata": token,
        "title": _plain(title),
        "submit": _plain(submit),
        "close": _plain("Cancel"),
        "blocks": [block],
    }


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}
