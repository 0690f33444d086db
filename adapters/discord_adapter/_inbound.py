"""Discord payloads -> neutral requests: ``/joke`` requests, our custom ids, modal values."""

import re
from collections.abc import Mapping
from typing import Any

import discord

from adapters._review import parse_button_id
from adapters.discord_adapter._config import PLATFORM
from bot.models import Actor, JokeRequest, Origin

# Same token alphabet as the DynamicItem templates (ASCII only, unlike str.isalnum).
TOKEN_RE = r"[A-Za-z0-9]+"  # noqa: S105  # a regex, not a secret


def parse_ours(custom_id: str) -> tuple[str, str] | None:
    """``(token, action)`` for a jk:v1 id with an ASCII token, else None."""
    parsed = parse_button_id(custom_id)
    if parsed is None or re.fullmatch(TOKEN_RE, parsed[0]) is None:
        return None
    return parsed


def joke_request(
    *,
    interaction_id: int,
    guild_id: int,
    channel_id: int | None,
    user_id: int,
    display: str,
    topic: str,
) -> JokeRequest:
    """The neutral request for ``/joke``; channels come from the guild's config in the service."""
    requester = Actor(PLATFORM, str(user_id), display, name=display)  # a name, never a ping
    origin = Origin(
        platform=PLATFORM,
        scope=str(guild_id),
        requester=requester,
        mod_channel="",
        public_channel="",
        reply_channel=str(channel_id) if channel_id is not None else "",
    )
    return JokeRequest(request_key=f"{PLATFORM}:{interaction_id}", origin=origin, topic=topic)


def modal_values(data: Mapping[str, Any] | None) -> dict[str, str]:
    """Field values of a modal submit, from both the ActionRow and the Label shapes."""
    values: dict[str, str] = {}
    rows = (data or {}).get("components") or []
    for row in rows:
        if not isinstance(row, Mapping):
            continue
        inner = row.get("components") or ([row["component"]] if "component" in row else [])
        for comp in inner:
            if isinstance(comp, Mapping) and "custom_id" in comp:
                values[str(comp["custom_id"])] = str(comp.get("value") or "")
    return values


def component_ids(message: discord.Message | None) -> set[str]:
    """custom_ids of the buttons on a message (what DynamicItem dispatch can see)."""
    ids: set[str] = set()
    for row in message.components if message is not None else []:
        for child in getattr(row, "children", []):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                ids.add(custom_id)
    return ids
