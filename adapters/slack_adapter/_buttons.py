"""The card's buttons and the modals' ids on Slack: action ids, callback ids, input ids.

Which buttons a card has, their labels and what each does come from
:data:`adapters._review.BUTTONS`; only the ids and the styles are Slack's. A button's
``value`` carries :func:`adapters._review.button_id` and nothing else.
"""

from typing import Any

from adapters._review import BUTTONS, EDIT_FORM, FORMS, REASON, REASON_FORM, Form, button_id
from bot.review import ReviewAction

ACTIONS_BLOCK = "jokebot_actions"
ACTION_IDS = {b.action: f"jokebot_{b.action}" for b in BUTTONS}
ACTION_PATTERN = "^(" + "|".join(ACTION_IDS.values()) + ")$"
_STYLES = {ReviewAction.APPROVE: "primary", ReviewAction.REJECT: "danger", REASON: None}

# One callback id per form; its input block and element ids, read back from view_submission.
CALLBACKS = {EDIT_FORM.kind: "jokebot_edit_modal", REASON_FORM.kind: "jokebot_reason_modal"}
CALLBACK_PATTERN = "^(" + "|".join(CALLBACKS.values()) + ")$"
EDIT_BLOCK, EDIT_ACTION = "jokebot_edit_text", EDIT_FORM.field
REASON_BLOCK, REASON_ACTION = "jokebot_reason", REASON_FORM.field
INPUT_BLOCKS = {EDIT_FORM.kind: EDIT_BLOCK, REASON_FORM.kind: REASON_BLOCK}
_KINDS = {callback: kind for kind, callback in CALLBACKS.items()}
Block = dict[str, Any]


def form_for_callback(callback_id: str) -> Form | None:
    """The form a submitted modal was, from its ``callback_id``."""
    return FORMS.get(_KINDS.get(callback_id, ""))


def actions_block(token: str) -> Block:
    """Approve / Reject / Reject with reason… / Edit…; each value carries only the button id."""
    elements: list[Block] = []
    for button in BUTTONS:
        element: Block = {
            "type": "button",
            "action_id": ACTION_IDS[button.action],
            # "…" marks a button that opens a form before anything is decided
            "text": {"type": "plain_text", "text": button.label + ("…" if button.form else "")},
            "value": button_id(token, button.action),
        }
        if style := _STYLES.get(button.action):
            element["style"] = style
        elements.append(element)
    return {"type": "actions", "block_id": ACTIONS_BLOCK, "elements": elements}
