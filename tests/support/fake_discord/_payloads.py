"""Interaction payloads: shaped like Discord's documentation examples, plus a required overlay.

The docs' "Example Interaction" for a slash command lacks keys discord.py 2.7 reads
unconditionally; :data:`REQUIRED_OVERLAY_KEYS` lists them and :func:`overlay` adds them.
"""

import itertools
import time
from collections.abc import Mapping
from typing import Any

from tests.support.fake_discord._world import (
    ALICE,
    APP_ID,
    GENERAL_CHANNEL,
    GUILD_CHANNELS,
    GUILD_ID,
    MEMBER_PERMS,
    MOD,
    MOD_CHANNEL,
    MOD_ROLE,
    PUBLIC_CHANNEL,
    member,
    roles,
    snowflake_at,
)

REQUIRED_OVERLAY_KEYS = ("version", "application_id", "attachment_size_limit", "member.flags")
_counter = itertools.count(1)


def _new_id() -> str:
    return str(snowflake_at(time.time() * 1000, next(_counter)))


def docs_shaped_slash(name: str, options: list[dict[str, Any]], user: int) -> dict[str, Any]:
    """A CHAT_INPUT interaction with exactly the keys of the docs' "Example Interaction"."""
    docs_member = {k: v for k, v in member(user).items() if k != "flags"}
    docs_member["is_pending"] = False
    return {
        "type": 2,
        "token": f"tok{next(_counter)}",
        "member": docs_member,
        "id": _new_id(),
        "guild_id": str(GUILD_ID),
        "app_permissions": "442368",
        "guild_locale": "en-US",
        "locale": "en-US",
        "data": {"options": options, "type": 1, "name": name, "id": str(APP_ID + 7)},
        "channel_id": str(GENERAL_CHANNEL),
    }


def overlay(payload: Mapping[str, Any]) -> dict[str, Any]:
    """Add the keys discord.py 2.7 requires (:data:`REQUIRED_OVERLAY_KEYS`) and recommended ones."""
    out = dict(payload)
    out.setdefault("version", 1)
    out.setdefault("application_id", str(APP_ID))
    out.setdefault("attachment_size_limit", 10 * 1024 * 1024)
    if "member" in out:
        out["member"] = {**out["member"], "flags": out["member"].get("flags", 0)}
    cid = out.setdefault("channel_id", str(GENERAL_CHANNEL))
    # The partial channel Discord sends carries its name too (discord.py reads it when the
    # guild is not cached).
    name = GUILD_CHANNELS.get(int(cid), "chat") if cid.isdigit() else "chat"
    out.setdefault(
        "channel",
        {"id": cid, "type": 0, "guild_id": str(GUILD_ID), "name": name, "position": 0, "flags": 0},
    )
    out.setdefault("entitlements", [])
    out.setdefault("authorizing_integration_owners", {"0": str(GUILD_ID)})
    out.setdefault("context", 0)
    return out


def slash(
    name: str,
    options: Mapping[str, str],
    *,
    user: int = ALICE,
    permissions: int | None = None,
    channel_id: int = GENERAL_CHANNEL,
) -> dict[str, Any]:
    """A slash-command interaction with string options."""
    opts = [{"type": 3, "name": k, "value": v} for k, v in options.items()]
    payload = docs_shaped_slash(name, opts, user)
    payload["channel_id"] = str(channel_id)
    if permissions is not None:
        payload["member"]["permissions"] = str(permissions)
    return overlay(payload)


def jokeconfig(
    *,
    user: int,
    permissions: int | None = None,
    mod: int = MOD_CHANNEL,
    public: int = PUBLIC_CHANNEL,
    blocked_words: str | None = None,
    screen_threshold: float | None = None,
) -> dict[str, Any]:
    """``/jokeconfig`` with channel (type 7) and role (type 8) options resolved as Discord does,
    and the optional screen options (string, type 3; number, type 10) when given.
    """
    payload = slash("jokeconfig", {}, user=user, permissions=permissions)
    payload["data"]["options"] = [
        {"type": 7, "name": "mod_channel", "value": str(mod)},
        {"type": 7, "name": "public_channel", "value": str(public)},
        {"type": 8, "name": "moderator_role", "value": str(MOD_ROLE)},
    ]
    if blocked_words is not None:
        payload["data"]["options"].append(
            {"type": 3, "name": "blocked_words", "value": blocked_words}
        )
    if screen_threshold is not None:
        payload["data"]["options"].append(
            {"type": 10, "name": "screen_threshold", "value": screen_threshold}
        )
    channels = {
        str(cid): {"id": str(cid), "type": 0, "name": f"c{cid % 1000}", "permissions": "0"}
        for cid in (mod, public)
    }
    role = next(r for r in roles() if r["id"] == str(MOD_ROLE))
    payload["data"]["resolved"] = {"channels": channels, "roles": {str(MOD_ROLE): role}}
    return payload


def click(
    custom_id: str,
    message: Mapping[str, Any] | None,
    *,
    user: int = MOD,
    permissions: int | None = None,
) -> dict[str, Any]:
    """A button click (type 3) on ``message``, whose ``components`` echo what the bot sent."""
    channel_id = str(message["channel_id"]) if message else str(MOD_CHANNEL)
    payload: dict[str, Any] = {
        "type": 3,
        "id": _new_id(),
        "token": f"tok{next(_counter)}",
        "guild_id": str(GUILD_ID),
        "channel_id": channel_id,
        "member": member(user, permissions=permissions),
        "data": {"component_type": 2, "custom_id": custom_id},
        "app_permissions": str(MEMBER_PERMS),
        "locale": "en-US",
        "guild_locale": "en-US",
    }
    if message is not None:
        payload["message"] = dict(message)
    return overlay(payload)


def modal_submit(
    custom_id: str,
    values: Mapping[str, str],
    message: Mapping[str, Any] | None,
    *,
    user: int = MOD,
    shape: str = "label",
) -> dict[str, Any]:
    """A modal submit (type 5) in the Label (type 18) or legacy ActionRow (type 1) shape."""
    payload = click(custom_id, message, user=user)
    payload["type"] = 5
    fields = [
        {"type": 4, "id": i + 2, "custom_id": k, "value": v}
        for i, (k, v) in enumerate(values.items())
    ]
    if shape == "label":
        components = [{"type": 18, "id": i + 1, "component": f} for i, f in enumerate(fields)]
    else:
        components = [{"type": 1, "components": [f]} for f in fields]
    payload["data"] = {"custom_id": custom_id, "components": components}
    return payload


def button_ids(message: Mapping[str, Any]) -> list[str]:
    """The custom_ids of a stored message's buttons."""
    return [
        child["custom_id"]
        for row in message.get("components", [])
        for child in row.get("components", [])
        if "custom_id" in child
    ]


def in_guild(payload: Mapping[str, Any], guild_id: int) -> dict[str, Any]:
    """The same interaction from another guild (one of the fake's other, empty guilds)."""
    channel_id = str(guild_id + 1)  # a channel the client has not cached: sent partial
    out = {**payload, "guild_id": str(guild_id), "channel_id": channel_id}
    out["channel"] = {**payload["channel"], "id": channel_id, "guild_id": str(guild_id)}
    out["authorizing_integration_owners"] = {"0": str(guild_id)}
    return out
