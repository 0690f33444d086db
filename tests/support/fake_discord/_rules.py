"""Discord's documented limits on messages, embeds, components, modals and response types.

Each check fills Discord's ``errors`` tree (``{"embeds": {"0": {"description": {"_errors":
[...]}}}}``); :func:`form_error` wraps it in the 400 / 50035 "Invalid Form Body" answer that
discord.py raises as an HTTPException. Limits: developers/resources/message (content, embeds),
developers/components/reference (buttons, rows, text inputs, modals) and
developers/interactions/receiving-and-responding (callback types).
"""

from collections.abc import Mapping, Sequence
from typing import Any

Answer = tuple[int, Any]
Tree = dict[str, Any]
EMPTY_MESSAGE: Answer = (400, {"code": 50006, "message": "Cannot send an empty message"})

# Interaction type -> the callback types Discord accepts for it (PING, APPLICATION_COMMAND,
# MESSAGE_COMPONENT, AUTOCOMPLETE, MODAL_SUBMIT): no UPDATE_MESSAGE (6/7) for a slash command,
# no MODAL (9) in answer to a modal submit.
RESPONSE_TYPES = {1: {1}, 2: {4, 5, 9}, 3: {4, 5, 6, 7, 9}, 4: {8}, 5: {4, 5, 6, 7}}


def _put(tree: Tree, path: Sequence[object], code: str, message: str) -> None:
    node = tree
    for key in path:
        node = node.setdefault(str(key), {})
    node.setdefault("_errors", []).append({"code": code, "message": message})


def _text(tree: Tree, path: Sequence[object], value: Any, limit: int, *, required: bool) -> int:
    """Check one string field; returns its length (for the embed total)."""
    text = value if isinstance(value, str) else ""
    if required and not text.strip():
        _put(tree, path, "BASE_TYPE_REQUIRED", "This field is required")  # blank counts as unset
    elif len(text) > limit:
        _put(tree, path, "BASE_TYPE_MAX_LENGTH", f"Must be {limit} or fewer in length.")
    return len(text)


def form_error(tree: Tree) -> Answer:
    """The 400 answer for an invalid body."""
    return 400, {"code": 50035, "message": "Invalid Form Body", "errors": tree}


def _embeds(tree: Tree, embeds: Sequence[Mapping[str, Any]]) -> None:
    # Up to 10 embeds; title 256, description 4096, 25 fields (name 256, value 1024, both
    # required), footer 2048, author 256; and all of it together at most 6,000 characters.
    if len(embeds) > 10:
        _put(tree, ["embeds"], "BASE_TYPE_MAX_LENGTH", "Must be 10 or fewer in length.")
    total = 0
    for i, embed in enumerate(embeds):
        at = ["embeds", i]
        total += _text(tree, [*at, "title"], embed.get("title"), 256, required=False)
        total += _text(tree, [*at, "description"], embed.get("description"), 4096, required=False)
        fields = embed.get("fields") or []
        if len(fields) > 25:
            _put(tree, [*at, "fields"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
        for j, f in enumerate(fields):
            total += _text(tree, [*at, "fields", j, "name"], f.get("name"), 256, required=True)
            total += _text(tree, [*at, "fields", j, "value"], f.get("value"), 1024, required=True)
        footer, author = embed.get("footer") or {}, embed.get("author") or {}
        total += _text(tree, [*at, "footer", "text"], footer.get("text"), 2048, required=False)
        total += _text(tree, [*at, "author", "name"], author.get("name"), 256, required=False)
    if total > 6000:
        _put(tree, ["embeds"], "MAX_EMBED_SIZE_EXCEEDED", "Embed size exceeds maximum size of 6000")


def _components(tree: Tree, rows: Sequence[Mapping[str, Any]]) -> None:
    # At most 5 action rows of 1-5 buttons; custom_id 1-100 and unique per message; label <= 80.
    if len(rows) > 5:
        _put(tree, ["components"], "BASE_TYPE_MAX_LENGTH", "Must be 5 or fewer in length.")
    seen: set[str] = set()
    for i, row in enumerate(rows):
        children = row.get("components") or []
        if row.get("type") != 1 or not 1 <= len(children) <= 5:
            _put(
                tree,
                ["components", i],
                "BASE_TYPE_BAD_LENGTH",
                "Must be between 1 and 5 in length.",
            )
        for j, button in enumerate(children):
            at = ["components", i, "components", j]
            _text(tree, [*at, "label"], button.get("label"), 80, required=False)
            if button.get("style") == 5:
                continue  # link buttons carry a url, not a custom_id
            custom_id = button.get("custom_id")
            _text(tree, [*at, "custom_id"], custom_id, 100, required=True)
            if custom_id in seen:
                _put(tree, [*at, "custom_id"], "COMPONENT_CUSTOM_ID_DUPLICATED", "Duplicate id")
            seen.add(str(custom_id))


def message_errors(body: Mapping[str, Any]) -> Tree:
    """Everything wrong with a message body (create, edit, callback data or webhook)."""
    tree: Tree = {}
    _text(tree, ["content"], body.get("content"), 2000, required=False)
    _embeds(tree, body.get("embeds") or [])
    _components(tree, body.get("components") or [])
    nonce = body.get("nonce")
    if nonce is not None and len(str(nonce)) > 25:
        _put(tree, ["nonce"], "BASE_TYPE_MAX_LENGTH", "Must be 25 or fewer in length.")
    return tree


def is_empty(message: Mapping[str, Any]) -> bool:
    """No content, embed, component, file, sticker or poll: Discord refuses it (50006)."""
    keys = ("embeds", "components", "attachments", "sticker_ids", "poll")
    return not str(message.get("content") or "").strip() and not any(message.get(k) for k in keys)


def check_message(body: Mapping[str, Any], *, create: bool) -> Answer | None:
    """The error answer for an invalid message body, or None."""
    tree = message_errors(body)
    if tree:
        return form_error(tree)
    return EMPTY_MESSAGE if create and is_empty(body) else None


def _text_input(tree: Tree, at: list[object], field: Mapping[str, Any]) -> None:
    # Text input: custom_id 1-100, max_length 1-4000, value no longer than either, placeholder 100.
    _text(tree, [*at, "custom_id"], field.get("custom_id"), 100, required=True)
    top = int(field.get("max_length") or 4000)
    if not 1 <= top <= 4000:
        _put(tree, [*at, "max_length"], "NUMBER_TYPE_MAX", "int value should be <= 4000.")
    _text(tree, [*at, "value"], field.get("value"), min(top, 4000), required=False)
    _text(tree, [*at, "placeholder"], field.get("placeholder"), 100, required=False)


def modal_errors(data: Mapping[str, Any]) -> Tree:
    """Everything wrong with a MODAL callback's data: title 1-45, 1-5 labelled text inputs."""
    tree: Tree = {}
    _text(tree, ["custom_id"], data.get("custom_id"), 100, required=True)
    _text(tree, ["title"], data.get("title"), 45, required=True)
    items = data.get("components") or []
    if not 1 <= len(items) <= 5:
        _put(tree, ["components"], "BASE_TYPE_BAD_LENGTH", "Must be between 1 and 5 in length.")
    for i, item in enumerate(items):
        if item.get("type") == 18:  # Label: the label is the wrapper's, the input inside it
            _text(tree, ["components", i, "label"], item.get("label"), 45, required=True)
            _text_input(tree, ["components", i, "component"], item.get("component") or {})
        else:  # legacy action row holding one text input that carries its own label
            [field, *_] = item.get("components") or [{}]
            at: list[object] = ["components", i, "components", 0]
            _text(tree, [*at, "label"], field.get("label"), 45, required=True)
            _text_input(tree, at, field)
    return tree


def response_type_error(interaction_type: int, response_type: int) -> Answer | None:
    """400 when a callback type is not valid for the interaction (Discord's exact code differs)."""
    if response_type in RESPONSE_TYPES.get(interaction_type, set()):
        return None
    tree: Tree = {}
    message = f"Response type {response_type} is not valid for interaction type {interaction_type}"
    _put(tree, ["type"], "INTERACTION_RESPONSE_TYPE_INVALID", message)
    return form_error(tree)
