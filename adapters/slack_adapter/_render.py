"""How jokebot looks on Slack: the review card in Block Kit, its decided form, the form modals."""

from collections.abc import Mapping, Sequence
from typing import Any

from adapters._review import Form
from adapters.slack_adapter._buttons import (
    ACTIONS_BLOCK,
    CALLBACKS,
    INPUT_BLOCKS,
    Block,
    actions_block,
)
from bot.review import Card

HEAD_BLOCK = "jokebot_head"
DRAFT_BLOCK = "jokebot_draft"
META_BLOCK = "jokebot_meta"
STATUS_BLOCK = "jokebot_status"
PLAIN_TEXT_MAX = 3000  # Slack's limit for a section's text and a text input


def escape(text: str) -> str:
    """Escape user text for mrkdwn, so a topic like ``<!channel>`` cannot ping anyone."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def card_text(card: Card) -> str:
    """Notification fallback text of a review card."""
    return f"Joke for review about “{card.get('topic', '')}”: {card.get('draft', '')}"


def card_blocks(card: Card, *, token: str | None, status: str = "") -> list[Block]:
    """The review card: topic, requester, draft, attempt, model; buttons when ``token`` is set."""
    topic = escape(card.get("topic", ""))
    # The requester is our own "<@U…>" mention, so it is not escaped.
    head = f"*Joke for review* · topic *{topic}* · requested by {card.get('requester', '?')}"
    meta = (
        f"Draft {card.get('attempt', 1)} of {card.get('max_attempts', '?')}"
        f" · {escape(card.get('model_label', ''))}"
    )
    draft = card.get("draft", "") or " "
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


def form_modal(form: Form, token: str, draft: str = "") -> Block:
    """A form as a modal; ``private_metadata`` is the token only, ``draft`` its prefill."""
    element: Block = {
        "type": "plain_text_input",
        "action_id": form.field,
        "multiline": True,
        "max_length": form.max_length,
    }
    if draft:
        element["initial_value"] = draft[: form.max_length]
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


def _plain(text: str) -> Block:
    return {"type": "plain_text", "text": text}


def _mrkdwn(text: str) -> Block:
    return {"type": "mrkdwn", "text": text}
