"""Realistic Slack request bodies (slash command, block_actions, view_submission), slack.md §2.4."""

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any
from urllib.parse import urlencode

from tests.support.fake_slack import TEAM

_ids = itertools.count(1)


def new_trigger() -> str:
    """A fresh trigger id, as Slack makes one per interaction."""
    return f"{next(_ids)}.4744562912.{next(_ids):032x}"


def typed(text: str) -> str:
    """What Slack's composer sends for typed text: ``&``, ``<``, ``>`` as entities.

    "All text in Slack uses the same system of escaping" (slack-api-docs, Message Formatting):
    clients send ``Hello &amp; &lt;world&gt;`` for ``Hello & <world>``, slash commands too.
    """
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def command_fields(
    text: str,
    *,
    user: str = "UREQ",
    channel: str = "CGEN",
    trigger: str,
    response_url: str,
    team: str = TEAM,
) -> dict[str, str]:
    """The fields of a ``/joke`` slash command; ``text`` is what the user typed."""
    return {
        "token": "legacy-verification-token",
        "team_id": team,
        "team_domain": "fake",
        "channel_id": channel,
        "channel_name": "general",
        "user_id": user,
        "user_name": user.lower(),
        "command": "/joke",
        "text": typed(text),
        "api_app_id": "A0JOKE",
        "is_enterprise_install": "false",
        "response_url": response_url,
        "trigger_id": trigger,
    }


def command_body(text: str, **kwargs: Any) -> str:
    """A slash command as Slack POSTs it (form encoded)."""
    return urlencode(command_fields(text, **kwargs))


def click_payload(
    message: Mapping[str, Any],
    channel: str,
    action: str,
    *,
    user: str,
    trigger: str,
    response_url: str,
    value: str | None = None,
) -> dict[str, Any]:
    """A ``block_actions`` payload for a click on ``action`` of a posted card."""
    button = _button(message.get("blocks") or [], action)
    return {
        "type": "block_actions",
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0JOKE",
        "token": "legacy-verification-token",
        "container": {
            "type": "message",
            "message_ts": message["ts"],
            "channel_id": channel,
            "is_ephemeral": False,
        },
        "trigger_id": trigger,
        "team": {"id": TEAM, "domain": "fake"},
        "channel": {"id": channel, "name": "mods"},
        "message": {
            "type": "message",
            "ts": message["ts"],
            "text": message.get("text", ""),
            "blocks": list(message.get("blocks") or []),
        },
        "response_url": response_url,
        "actions": [
            {
                "type": "button",
                "action_id": button.get("action_id", f"jokebot_{action}"),
                "block_id": "jokebot_actions",
                "value": value if value is not None else button.get("value", ""),
                "action_ts": f"{1700000000 + next(_ids)}.{next(_ids):06d}",
            }
        ],
    }


def submission_payload(
    view: Mapping[str, Any], *, user: str, values: Mapping[str, Mapping[str, str]]
) -> dict[str, Any]:
    """A ``view_submission`` of an opened modal; ``values`` is ``{block_id: {action_id: text}}``."""
    state = {
        block: {
            action: {"type": "plain_text_input", "value": text} for action, text in inputs.items()
        }
        for block, inputs in values.items()
    }
    return {
        "type": "view_submission",
        "team": {"id": TEAM, "domain": "fake"},
        "user": {"id": user, "username": user.lower(), "team_id": TEAM},
        "api_app_id": "A0JOKE",
        "token": "legacy-verification-token",
        "trigger_id": new_trigger(),
        "view": {
            **dict(view),
            "id": view.get("id", f"V{next(_ids)}"),
            "hash": view.get("hash", "h1"),
            "state": {"values": state},
        },
        "response_urls": [],
    }


def form(payload: Mapping[str, Any]) -> str:
    """An interactive payload as Slack POSTs it: ``payload=<json>``, form encoded."""
    return urlencode({"payload": json.dumps(payload)})


def _button(blocks: Sequence[Mapping[str, Any]], action: str) -> Mapping[str, Any]:
    for block in blocks:
        for element in block.get("elements") or []:
            if element.get("action_id") == f"jokebot_{action}":
                return dict(element)
    return {}
