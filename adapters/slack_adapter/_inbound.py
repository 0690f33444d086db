"""Slack payloads -> small typed records and neutral requests, first line of every listener."""

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from adapters._review import Form, parse_button_id
from adapters.slack_adapter._buttons import INPUT_BLOCKS, form_for_callback
from adapters.slack_adapter._config import PLATFORM, SlackConfig
from adapters.slack_adapter._markup import unescape
from bot.errors import BadRequest
from bot.models import Actor, JokeRequest, Origin


@dataclass(frozen=True)
class Command:
    """A ``/joke <topic>`` invocation."""

    team_id: str
    user_id: str
    channel_id: str
    trigger_id: str
    topic: str
    response_url: str | None
    user_name: str = ""  # the invoker's name as the command carries it (plain text)


@dataclass(frozen=True)
class Click:
    """A click on one of our card buttons."""

    token: str
    action: str
    user_id: str
    team_id: str
    trigger_id: str
    interaction_id: str
    channel_id: str
    message_ts: str
    response_url: str | None
    blocks: tuple[Mapping[str, Any], ...] = field(default=())
    user_name: str = ""  # the clicker's name in the payload (plain text)


@dataclass(frozen=True)
class Submission:
    """A submitted form (the Edit or the Reject-with-reason modal)."""

    token: str
    form: Form
    user_id: str
    interaction_id: str
    text: str
    team_id: str = ""
    user_name: str = ""


def to_command(body: Mapping[str, Any]) -> Command:
    """A slash-command body (form fields) as a :class:`Command`.

    Slack's composer sends typed text with ``&``, ``<`` and ``>`` as ``&amp;``, ``&lt;`` and
    ``&gt;`` ("all text in Slack uses the same system of escaping"), and neither slack_bolt nor
    slack_sdk decodes them: the topic is decoded here, before the flow cleans it, so the model
    and the card get "Tom & Jerry", never "Tom &amp; Jerry" (renderers escape it again).
    """
    return Command(
        team_id=_text(body, "team_id"),
        user_id=_text(body, "user_id"),
        channel_id=_text(body, "channel_id"),
        trigger_id=_text(body, "trigger_id"),
        topic=unescape(str(body.get("text") or "")).strip(),
        response_url=_optional(body.get("response_url")),
        user_name=str(body.get("user_name") or ""),
    )


def to_click(body: Mapping[str, Any]) -> Click:
    """A ``block_actions`` body as a :class:`Click`; raises BadRequest when it is not ours."""
    actions = body.get("actions")
    if not isinstance(actions, list) or not actions or not isinstance(actions[0], Mapping):
        raise BadRequest("block_actions without actions")
    action = actions[0]
    parsed = parse_button_id(str(action.get("value") or ""))
    if parsed is None:
        raise BadRequest("This button is not one of jokebot's (or it is from an old version).")
    token, verb = parsed
    user_id = _text(_mapping(body, "user"), "id")
    trigger_id = _text(body, "trigger_id")
    container = _mapping(body, "container", required=False)
    message = _mapping(body, "message", required=False)
    channel_id = str(container.get("channel_id") or _mapping(body, "channel", False).get("id", ""))
    blocks = message.get("blocks")
    return Click(
        token=token,
        action=verb,
        user_id=user_id,
        team_id=str(_mapping(body, "team", False).get("id") or ""),
        trigger_id=trigger_id,
        # A redelivered envelope repeats all three; a second click has a new trigger and ts.
        interaction_id=f"{trigger_id}:{user_id}:{action.get('action_ts', '')}",
        channel_id=channel_id,
        message_ts=str(container.get("message_ts") or message.get("ts") or ""),
        response_url=_optional(body.get("response_url")),
        blocks=tuple(b for b in blocks if isinstance(b, Mapping))
        if isinstance(blocks, list)
        else (),
        user_name=user_name(body),
    )


def to_submission(body: Mapping[str, Any]) -> Submission:
    """A ``view_submission`` of one of our forms as a :class:`Submission`."""
    view = _mapping(body, "view")
    form = form_for_callback(str(view.get("callback_id") or ""))
    if form is None:
        raise BadRequest("a modal that is not one of jokebot's")
    token = str(view.get("private_metadata") or "")
    if not token.isalnum():
        raise BadRequest("modal without a valid token")
    values = _mapping(_mapping(view, "state"), "values")
    text = _input_value(values, INPUT_BLOCKS[form.kind], form.field)
    return Submission(
        token=token,
        form=form,
        user_id=_text(_mapping(body, "user"), "id"),
        interaction_id=_submission_id(body, view, values),
        text=text,
        team_id=str(_mapping(body, "team", False).get("id") or ""),
        user_name=user_name(body),
    )


def user_name(body: Mapping[str, Any]) -> str:
    """The acting user's name in an interaction payload (``user.name``, else ``username``)."""
    who = _mapping(body, "user", False)
    return str(who.get("name") or who.get("username") or "")


def _submission_id(body: Mapping[str, Any], view: Mapping[str, Any], values: Any) -> str:
    """The inbox key of one submit of a modal.

    A modal answered with ``response_action: errors`` stays open with the same view id and
    hash, so those cannot tell a resubmit from a redelivery: the runtime would answer the
    resubmit "duplicate" and the modal would close with nothing applied. Slack sends a fresh
    ``trigger_id`` with every submit, and a redelivered envelope repeats it; without one, the
    submitted values tell a changed resubmit apart.
    """
    view_id = _text(view, "id")
    trigger = body.get("trigger_id")
    if isinstance(trigger, str) and trigger:
        return f"view:{view_id}:{trigger}"
    state = json.dumps(values, sort_keys=True, default=str).encode()
    return f"view:{view_id}:{view.get('hash', '')}:{hashlib.sha256(state).hexdigest()[:16]}"


def actor(user_id: str, is_moderator: bool = False, *, name: str = "") -> Actor:
    """A Slack user as a neutral Actor, shown as their mention on Slack, ``name`` elsewhere."""
    return Actor(PLATFORM, user_id, f"<@{user_id}>", is_moderator=is_moderator, name=name)


def to_joke_request(command: Command, config: SlackConfig) -> JokeRequest:
    """The neutral request for ``/joke``; cards and jokes go to the configured channels."""
    origin = Origin(
        platform=PLATFORM,
        scope=command.team_id,
        requester=actor(command.user_id, name=command.user_name),
        mod_channel=config.mod_channel,
        public_channel=config.public_channel,
        reply_channel=command.channel_id,
    )
    # trigger_id is the same in every redelivery of this command: one run per key.
    key = f"{PLATFORM}:{command.team_id}:{command.trigger_id}"
    return JokeRequest(request_key=key, origin=origin, topic=command.topic)


def _input_value(values: Mapping[str, Any], block_id: str, action_id: str) -> str:
    block = values.get(block_id)
    if not isinstance(block, Mapping) or not isinstance(block.get(action_id), Mapping):
        return ""
    return str(block[action_id].get("value") or "")


def _mapping(body: Mapping[str, Any], key: str, required: bool = True) -> Mapping[str, Any]:
    value = body.get(key)
    if isinstance(value, Mapping):
        return value
    if required:
        raise BadRequest(f"payload without {key!r}")
    return {}


def _text(body: Mapping[str, Any], key: str) -> str:
    value = body.get(key)
    if not isinstance(value, str) or not value:
        raise BadRequest(f"payload without {key!r}")
    return value


def _optional(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
