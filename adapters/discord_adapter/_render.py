"""How jokebot looks on Discord: card, joke and notice embeds, the forms as modals, the ref key.

Every message the sender posts is one embed whose footer ends with ``ref <dedupe_key>``. Discord
does not return a message's nonce in REST history, so this small footer key is what
``reconcile`` matches on outside the nonce window.
"""

import discord

from adapters._review import Form, decided_card, shown_draft, status_line
from bot.review import Card, CardUpdate, ReviewAction

KEY_MARK = " · ref "
PENDING = "pending"
_COLOURS = {
    PENDING: discord.Colour.blurple(),
    ReviewAction.APPROVE: discord.Colour.green(),
    ReviewAction.EDIT: discord.Colour.green(),
    ReviewAction.REJECT: discord.Colour.red(),
}
_DESCRIPTION_MAX = 4000
_FIELD_MAX = 1000


def _clip(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _colour(status: str) -> discord.Colour:
    return _COLOURS.get(status, discord.Colour.greyple())


def _footer(text: str, key: str | None) -> str:
    return _clip(text, 1800) + (f"{KEY_MARK}{key}" if key else "")


def card_embed(card: Card, *, key: str | None, status: str = PENDING) -> discord.Embed:
    """The review card: draft, topic, requester, attempt n of N; model label in the footer."""
    draft = card.get("draft", "")
    embed = discord.Embed(
        title="Joke draft for review",
        description=_clip(draft, _DESCRIPTION_MAX) or "(empty draft)",
        colour=_colour(status),
    )
    embed.add_field(name="Topic", value=_clip(card.get("topic", ""), _FIELD_MAX) or "-")
    embed.add_field(name="Requested by", value=card.get("requester") or "someone")
    attempt, total = card.get("attempt", 1), card.get("max_attempts", 1)
    embed.add_field(name="Attempt", value=f"{attempt} of {total}")
    embed.set_footer(text=_footer(card.get("model_label", "unknown model"), key))
    return embed


def decided_embed(update: CardUpdate) -> tuple[str, discord.Embed]:
    """Content (the status line) and embed of a decided card, from a ``review.update``."""
    return status_line(update), card_embed(decided_card(update), key=None, status=update["outcome"])


def clicked_embed(message: discord.Message | None, outcome: str, text: str) -> discord.Embed | None:
    """The clicked card's embed as decided, for the click's own answer (None: no card shown)."""
    if message is None or not message.embeds:
        return None
    embed = message.embeds[0].copy()
    embed.colour = _colour(outcome)
    embed.description = shown_draft(outcome, embed.description or "", text)
    return embed


def joke_embed(text: str, requester: str, *, key: str | None) -> discord.Embed:
    """An approved joke for the public channel, crediting the requester by name (no ping)."""
    embed = discord.Embed(
        description=_clip(text, _DESCRIPTION_MAX), colour=_colour(ReviewAction.APPROVE)
    )
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


def form_modal(form: Form, custom_id: str, default: str = "") -> discord.ui.Modal:
    """A form as a modal; ``custom_id`` carries the token, so submits survive restarts."""
    modal = discord.ui.Modal(title=form.title, custom_id=custom_id)
    field: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        style=discord.TextStyle.paragraph,
        custom_id=form.field,
        default=default[: form.max_length] or None,
        max_length=form.max_length,
        required=True,
    )
    modal.add_item(discord.ui.Label(text=form.label, component=field))
    return modal
