"""Pure Discord rules: custom ids, the moderator predicate, the invite URL, request translation."""

import re
from collections.abc import Iterable

import discord

from adapters._review import button_id, parse_button_id
from bot.models import Actor, JokeRequest, Origin

PLATFORM = "discord"

# Card buttons. "reason" is adapter-only: it opens the reject-with-reason modal, whose submit
# decides "reject" with data={"reason": ...}.
APPROVE, REJECT, EDIT, REASON = "approve", "reject", "edit", "reason"
BUTTON_ACTIONS = (APPROVE, REJECT, EDIT, REASON)
EDIT_MODAL, REASON_MODAL = "editmodal", "reasonmodal"
MODAL_KINDS = (EDIT_MODAL, REASON_MODAL)

# Same token alphabet as DynamicItem templates below (ASCII only, unlike str.isalnum).
TOKEN_RE = r"[A-Za-z0-9]+"  # noqa: S105  # a regex, not a secret


def template(action: str) -> str:
    """The DynamicItem template for one card button, e.g. ``jk:v1:(?P<token>...):approve``."""
    return "jk:v1:(?P<token>" + TOKEN_RE + "):" + re.escape(action)


def modal_id(token: str, kind: str) -> str:
    """The custom_id of a modal opened from a card: ``jk:v1:<token>:editmodal``."""
    return button_id(token, kind)


def parse_ours(custom_id: str) -> tuple[str, str] | None:
    """``(token, action)`` for a jk:v1 id with an ASCII token, else None."""
    parsed = parse_button_id(custom_id)
    if parsed is None or re.fullmatch(TOKEN_RE, parsed[0]) is None:
        return None
    return parsed


def is_moderator(
    role_ids: Iterable[int], manage_messages: bool, moderator_role: str | None
) -> bool:
    """True for a member holding the configured moderator role or Manage Messages."""
    if manage_messages:
        return True
    if not moderator_role or not moderator_role.isdigit():
        return False
    return int(moderator_role) in set(role_ids)


def required_permissions() -> discord.Permissions:
    """What the bot needs in the moderator and public channels (embeds carry cards and keys)."""
    return discord.Permissions(
        view_channel=True, send_messages=True, read_message_history=True, embed_links=True
    )


def invite_url(application_id: int | str) -> str:
    """The OAuth2 URL that adds the bot with scopes bot + applications.commands."""
    return discord.utils.oauth_url(
        str(application_id),
        permissions=required_permissions(),
        scopes=("bot", "applications.commands"),
    )


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
    requester = Actor(PLATFORM, str(user_id), display)
    origin = Origin(
        platform=PLATFORM,
        scope=str(guild_id),
        requester=requester,
        mod_channel="",
        public_channel="",
        reply_channel=str(channel_id) if channel_id is not None else "",
    )
    return JokeRequest(request_key=f"{PLATFORM}:{interaction_id}", origin=origin, topic=topic)


def run_snowflake(run_id: str) -> int | None:
    """The interaction snowflake in ``discord:<id>`` run ids (effects are never older)."""
    prefix, _, rest = run_id.partition(":")
    if prefix != PLATFORM or not rest.isdigit():
        return None
    return int(rest)
