"""How jokebot looks on Discord: review-card, joke and notice embeds, and the reconcile key.

Every message the sender posts is one embed whose footer ends with ``ref <dedupe_key>``. Discord
does not return a message's nonce in REST history, so this small footer key is what
``reconcile`` matches on outside the nonce window.
"""

from collections.abc import Mapping
from typing import Any

import discord

from bot.review import outcome_line

KEY_MARK = " · ref "
_COLOURS = {
    "pending": discord.Colour.blurple(),
    "approve": discord.Colour.green(),
    "edit": discord.Colour.green(),
    "reject": discord.Colour.red(),
}
_DESCRIPTION_MAX = 4000
_FIELD_MAX = 1000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def display_of(value: Any, default: str = "someone") -> str:
    """A display name from a payload value that may be a string or an actor-like mapping."""
    if isinstance(value, Mapping):
        value = value.get("display") or value.get("user_id")
    return str(value) if value else default


def _footer(text: str, key: str | None) -> str:
    return _clip(text, 1800) + (f"{KEY_MARK}{key}" if key else "")


def card_embed(
    card: Mapping[str, Any], *, key: str | None, status: str = "pending"
) -> discord.Embed:
    """The review card: draft, topic, requester, attempt n of N; model label in the footer."""
    draft = str(card.get("draft", ""))
    embed = discord.Embed(
        title="Joke draft for review",
        description=_clip(draft, _DESCRIPTION_MAX) or "(empty draft)",
        colour=_COLOURS.get(status, discord.Colour.greyple()),
    )
    embed.add_field(name="Topic", value=_clip(str(card.get("topic", "")), _FIELD_MAX) or "-")
    embed.add_field(name="Requested by", value=display_of(card.get("requester")))
    attempt, total = card.get("attempt", 1), card.get("max_attempts", 1)
    embed.add_field(name="Attempt", value=f"{attempt} of {total}")
    embed.set_footer(text=_footer(str(card.get("model_label", "unknown model")), key))
    return embed


def decided_card(payload: Mapping[str, Any]) -> tuple[str, discord.Embed]:
    """Content (the status line) and embed of a decided card, from a REVIEW_UPDATE payload."""
    outcome = str(payload.get("outcome", ""))
    line = outcome_line(outcome, display_of(payload.get("actor")), str(payload.get("reason") or ""))
    card = dict(payload.get("card") or {})
    if outcome == "edit" and payload.get("text"):
        card["draft"] = payload["text"]
    return line, card_embed(card, key=None, status=outcome)


def joke_embed(text: str, requester: str, *, key: str | None) -> discord.Embed:
    """An approved joke for the public channel, crediting the requester by name (no ping)."""
    embed = discord.Embed(description=_clip(text, _DESCRIPTION_MAX), colour=_COLOURS["approve"])
    embed.set_footer(text=_footer(f"Requested by {requester}", key))
    return embed


def notice_embed(text: str, *, key: str | None, title: str | None = None) -> discord.Embed:
    """A notice to the requester or an alert to the moderators."""
    embed = discord.Embed(title=title, description=_clip(text, _DESCRIPTION_MAX))
    embed.set_footer(text=_footer("jokebot", key))
    return embed


def footer_key(message: discord.Message) -> str | None:
    """The ``ref`` key in a message's first embed footer, if any."""
    if not message.embeds:
        return None
    footer = message.embeds[0].footer.text or ""
    _, mark, key = footer.rpartition(KEY_MARK)
    return (key.strip() or None) if mark else None


def card_draft(message: discord.Message | None) -> str | None:
    """The draft shown on a card message (used to prefill the Edit modal as a fallback)."""
    if message is None or not message.embeds:
        return None
    return message.embeds[0].description
