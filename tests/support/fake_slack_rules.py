"""The documented Slack rules FakeSlack enforces: Block Kit and view limits, metadata, scopes.

Each rule names what it models (docs.slack.dev: "Block Kit → Blocks", "… → Composition
objects", "… → Block elements", "Surfaces → Modals", "Messaging → Message metadata", the Web
API method pages for scopes and errors). A violation is returned as a Slack-style message
``"[ERROR] <what> [json-pointer:<where>]"``; the fake answers ``invalid_blocks`` (messages) or
``invalid_arguments`` (views) with them in ``response_metadata.messages``, as Slack does.
"""

import re
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

MANIFEST = Path(__file__).resolve().parents[2] / "manifest.yml"

MESSAGE_BLOCKS_MAX = 50  # a message holds up to 50 blocks
VIEW_BLOCKS_MAX = 100  # a modal holds up to 100 blocks
TEXT_MAX = 40_000  # chat.postMessage text beyond this: msg_too_long
TEXT_OBJECT_MAX = 3000  # a text object (section text, context element)
SECTION_FIELD_MAX, SECTION_FIELDS_MAX = 2000, 10
CONTEXT_ELEMENTS_MAX = 10
ACTIONS_ELEMENTS_MAX = 25
HEADER_MAX = 150
BLOCK_ID_MAX = ACTION_ID_MAX = CALLBACK_ID_MAX = 255
BUTTON_TEXT_MAX, BUTTON_VALUE_MAX, URL_MAX = 75, 2000, 3000
INPUT_LABEL_MAX = HINT_MAX = 2000
INPUT_VALUE_MAX = 3000  # plain_text_input: max_length and initial_value
PLACEHOLDER_MAX = 150
VIEW_TITLE_MAX = VIEW_BUTTON_MAX = 24  # modal title, submit, close
PRIVATE_METADATA_MAX = 3000
EVENT_TYPE = re.compile(r"[A-Za-z0-9_]{1,255}")  # message metadata event_type
_TEXT_KEYS = {"plain_text": {"type", "text", "emoji"}, "mrkdwn": {"type", "text", "verbatim"}}

# Scopes each Web API method needs (the method pages' "Required scopes"); conversation methods
# depend on the conversation type: public channel, private channel, DM.
METHOD_SCOPES: dict[str, tuple[str, ...]] = {
    "chat.postMessage": ("chat:write",),
    "chat.update": ("chat:write",),
    "chat.postEphemeral": ("chat:write",),
    "conversations.open": ("im:write",),
    "usergroups.users.list": ("usergroups:read",),
}
HISTORY_SCOPES = {"public": "channels:history", "private": "groups:history", "im": "im:history"}
INFO_SCOPES = {"public": "channels:read", "private": "groups:read", "im": "im:read"}


@cache
def manifest_scopes() -> frozenset[str]:
    """The bot scopes ``manifest.yml`` asks for: what an installed app's token carries."""
    scopes: set[str] = set()
    inside = False
    for raw in MANIFEST.read_text(encoding="utf-8").splitlines():
        line = raw.split("#", 1)[0].rstrip()
        if re.fullmatch(r"\s+bot:", line):
            inside = True
        elif inside and (m := re.fullmatch(r"\s+- ([a-z.:_]+)", line)):
            scopes.add(m.group(1))
        elif inside and line.strip():
            inside = False
    return frozenset(scopes)


def check_metadata(metadata: Any) -> str | None:
    """Message metadata: ``{"event_type": <a-z0-9_>, "event_payload": {...}}`` or an error."""
    if metadata is None:
        return None
    if not isinstance(metadata, Mapping) or not isinstance(metadata.get("event_payload"), dict):
        return "invalid_metadata_format"
    if not isinstance(metadata.get("event_type"), str) or not EVENT_TYPE.fullmatch(
        metadata["event_type"]
    ):
        return "invalid_metadata_schema"
    return None


def check_blocks(blocks: Any, *, limit: int = MESSAGE_BLOCKS_MAX, at: str = "/blocks") -> list[str]:
    """Every Block Kit violation in ``blocks`` (empty: valid)."""
    if not isinstance(blocks, list):
        return [_err("must be an array", at)]
    errors = [_err(f"must contain at most {limit} blocks", at)] if len(blocks) > limit else []
    for i, block in enumerate(blocks):
        errors += _block(block, f"{at}/{i}")
    return errors


def check_view(view: Any) -> list[str]:
    """Every violation in a modal view (``views.open`` / ``views.update``)."""
    if not isinstance(view, Mapping) or view.get("type") != "modal":
        return [_err("view type must be modal", "/view/type")]
    errors = _text(view.get("title"), "/view/title", VIEW_TITLE_MAX, plain_only=True)
    for key in ("submit", "close"):
        if key in view:
            errors += _text(view[key], f"/view/{key}", VIEW_BUTTON_MAX, plain_only=True)
    blocks = view.get("blocks") or []
    if any(isinstance(b, Mapping) and b.get("type") == "input" for b in blocks) and (
        "submit" not in view
    ):
        errors.append(_err("a view with input blocks needs a submit button", "/view/submit"))
    errors += _length(
        view.get("private_metadata", ""), PRIVATE_METADATA_MAX, "/view/private_metadata"
    )
    errors += _length(view.get("callback_id", ""), CALLBACK_ID_MAX, "/view/callback_id")
    return errors + check_blocks(blocks, limit=VIEW_BLOCKS_MAX, at="/view/blocks")


def _block(block: Any, at: str) -> list[str]:
    if not isinstance(block, Mapping):
        return [_err("must be an object", at)]
    errors = _length(block.get("block_id", ""), BLOCK_ID_MAX, f"{at}/block_id")
    kind = block.get("type")
    if kind == "section":
        if "text" not in block and "fields" not in block:
            errors.append(_err("section needs text or fields", at))
        if "text" in block:
            errors += _text(block["text"], f"{at}/text", TEXT_OBJECT_MAX)
        fields = block.get("fields") or []
        if len(fields) > SECTION_FIELDS_MAX:
            errors.append(_err(f"must contain at most {SECTION_FIELDS_MAX} fields", f"{at}/fields"))
        for j, item in enumerate(fields):
            errors += _text(item, f"{at}/fields/{j}", SECTION_FIELD_MAX)
    elif kind == "context":
        elements = block.get("elements") or []
        if not elements or len(elements) > CONTEXT_ELEMENTS_MAX:
            errors.append(_err(f"needs 1 to {CONTEXT_ELEMENTS_MAX} elements", f"{at}/elements"))
        for j, item in enumerate(elements):
            errors += _text(item, f"{at}/elements/{j}", TEXT_OBJECT_MAX)
    elif kind == "actions":
        elements = block.get("elements") or []
        if not elements or len(elements) > ACTIONS_ELEMENTS_MAX:
            errors.append(_err(f"needs 1 to {ACTIONS_ELEMENTS_MAX} elements", f"{at}/elements"))
        for j, item in enumerate(elements):
            errors += _element(item, f"{at}/elements/{j}")
    elif kind == "header":
        errors += _text(block.get("text"), f"{at}/text", HEADER_MAX, plain_only=True)
    elif kind == "input":
        errors += _text(block.get("label"), f"{at}/label", INPUT_LABEL_MAX, plain_only=True)
        if "hint" in block:
            errors += _text(block["hint"], f"{at}/hint", HINT_MAX, plain_only=True)
        errors += _element(block.get("element"), f"{at}/element")
    elif kind != "divider":
        errors.append(_err(f"unsupported block type {kind!r}", f"{at}/type"))
    return errors


def _element(element: Any, at: str) -> list[str]:
    if not isinstance(element, Mapping):
        return [_err("must be an object", at)]
    errors = _length(element.get("action_id", ""), ACTION_ID_MAX, f"{at}/action_id")
    kind = element.get("type")
    if kind == "button":
        errors += _text(element.get("text"), f"{at}/text", BUTTON_TEXT_MAX, plain_only=True)
        errors += _length(element.get("value", ""), BUTTON_VALUE_MAX, f"{at}/value")
        errors += _length(element.get("url", ""), URL_MAX, f"{at}/url")
        if element.get("style") not in (None, "primary", "danger"):
            errors.append(_err("style must be primary or danger", f"{at}/style"))
    elif kind == "plain_text_input":
        max_length = element.get("max_length", INPUT_VALUE_MAX)
        if not isinstance(max_length, int) or not 1 <= max_length <= INPUT_VALUE_MAX:
            errors.append(_err(f"max_length must be 1 to {INPUT_VALUE_MAX}", f"{at}/max_length"))
            max_length = INPUT_VALUE_MAX
        errors += _length(element.get("initial_value", ""), max_length, f"{at}/initial_value")
        if "placeholder" in element:
            errors += _text(element["placeholder"], f"{at}/placeholder", PLACEHOLDER_MAX, True)
    else:
        errors.append(_err(f"unsupported element type {kind!r}", f"{at}/type"))
    return errors


def _text(obj: Any, at: str, limit: int, plain_only: bool = False) -> list[str]:
    """A text object: plain_text (``emoji``) or mrkdwn (``verbatim``), 1 to ``limit`` chars."""
    if not isinstance(obj, Mapping) or obj.get("type") not in _TEXT_KEYS:
        return [_err("must be a text object (plain_text or mrkdwn)", at)]
    if plain_only and obj["type"] != "plain_text":
        return [_err("must be a plain_text object", f"{at}/type")]
    unknown = set(obj) - _TEXT_KEYS[obj["type"]]
    if unknown:
        return [_err(f"unknown properties {sorted(unknown)}", at)]
    text = obj.get("text")
    if not isinstance(text, str) or not text:
        return [_err("must be at least 1 character", f"{at}/text")]
    return _length(text, limit, f"{at}/text")


def _length(value: Any, limit: int, at: str) -> list[str]:
    if isinstance(value, str) and len(value) > limit:
        return [_err(f"must be less than {limit + 1} characters", at)]
    return []


def _err(what: str, at: str) -> str:
    return f"[ERROR] {what} [json-pointer:{at}]"
