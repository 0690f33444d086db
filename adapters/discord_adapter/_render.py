"""How jokebot looks on Discord: card, joke and notice embeds, the forms as modals, the ref key.

Every message the sender posts is one embed whose footer ends with ``ref <dedupe_key>``. Discord
does not return a message's nonce in REST history, so this small footer key is what
``reconcile`` matches on outside the nonce window.

Every string that came from a person or the model goes through :mod:`._text` (escaped, inert,
clipped) on its way in; each embed is then held to Discord's 6,000-character total.
"""

import discord

from adapters._review import Form, decided_card, requester_elsewhere, shown_draft, status_line
from adapters.discord_adapter._config import PLATFORM
from adapters.discord_adapter._text import clip, form_value, md, plain, unescape
from bot.review import Card, CardUpdate, ReviewAction, outcome_line

KEY_MARK = " · ref "
PENDING = "pending"
EMPTY_DRAFT = "(empty draft)"
_COLOURS = {
    PENDING: discord.Colour.blurple(),
    ReviewAction.APPROVE: discord.Colour.green(),
    ReviewAction.EDIT: discord.Colour.green(),
    ReviewAction.REJECT: discord.Colour.red(),
}
# Discord's limits (developers/resources/message#embed-object-embed-limits).
CONTENT_MAX = 2000
TITLE_MAX = 256
DESCRIPTION_MAX = 4096
FIELD_MAX = 1024
EMBED_TOTAL_MAX = 6000  # title + description + field names and values + footer + author
NAME_MAX = 256  # a person's name in a field (Discord's own names are at most 32)
FOOTER_LABEL_MAX = 256  # before " · ref <key>"; the key is never clipped


def _colour(status: str) -> discord.Colour:
    return _COLOURS.get(status, discord.Colour.greyple())


def _footer(text: str, key: str | None) -> str:
    return plain(text, FOOTER_LABEL_MAX) + (f"{KEY_MARK}{key}" if key else "")


def fit(embed: discord.Embed, total: int = EMBED_TOTAL_MAX) -> discord.Embed:
    """Hold ``embed`` to Discord's total: shorten the description, then the longest fields.

    Each part is already within its own limit; their sum may not be. The footer (which ends
    with the ref key reconcile looks for) and the title are never shortened.
    """
    over = len(embed) - total
    if over > 0 and embed.description:
        embed.description = clip(embed.description, max(1, len(embed.description) - over))
    while (over := len(embed) - total) > 0 and embed.fields:
        i, longest = max(enumerate(embed.fields), key=lambda f: len(f[1].value or ""))
        value = longest.value or ""
        if len(value) <= 1:
            break
        shorter = clip(value, max(1, len(value) - over))
        embed.set_field_at(i, name=longest.name or "", value=shorter, inline=longest.inline)
    return embed


def card_embed(card: Card, *, key: str | None, status: str = PENDING) -> discord.Embed:
    """The review card: draft, topic, requester, attempt n of N; model label in the footer.

    A requester from another platform is named with it: "Ana (Slack)".
    """
    embed = discord.Embed(
        title="Joke draft for review",
        description=md(str(card.get("draft", "")), DESCRIPTION_MAX) or EMPTY_DRAFT,
        colour=_colour(status),
    )
    topic = md(str(card.get("topic", "")), FIELD_MAX, multiline=False)
    embed.add_field(name="Topic", value=topic or "(none)")
    embed.add_field(name="Requested by", value=_requester(card))
    attempt, total = card.get("attempt", 1), card.get("max_attempts", 1)
    embed.add_field(name="Attempt", value=md(f"{attempt} of {total}", FIELD_MAX))
    embed.set_footer(text=_footer(str(card.get("model_label", "unknown model")), key))
    return fit(embed)


def _requester(card: Card) -> str:
    elsewhere = requester_elsewhere(card, PLATFORM)
    if elsewhere is None:
        return md(str(card.get("requester", "")), NAME_MAX, multiline=False) or "someone"
    name, platform = elsewhere
    return f"{md(name, NAME_MAX, multiline=False) or 'someone'} ({platform})"


def decided_line(outcome: str, actor: str, reason: str = "") -> str:
    """The status line of a decided card (message content), names and reason made inert."""
    return md(outcome_line(outcome, actor, reason), CONTENT_MAX, multiline=False)


def decided_embed(update: CardUpdate) -> tuple[str, discord.Embed]:
    """Content (the status line) and embed of a decided card, from a ``review.update``."""
    line = md(status_line(update, PLATFORM), CONTENT_MAX, multiline=False)
    return line, card_embed(decided_card(update), key=None, status=update["outcome"])


def clicked_embed(message: discord.Message | None, outcome: str, text: str) -> discord.Embed | None:
    """The clicked card's embed as decided, for the click's own answer (None: no card shown)."""
    if message is None or not message.embeds:
        return None
    embed = message.embeds[0].copy()  # rendered by card_embed: already inert
    embed.colour = _colour(outcome)
    edited = shown_draft(outcome, "", text)
    if edited:
        embed.description = md(edited, DESCRIPTION_MAX) or EMPTY_DRAFT
    return fit(embed)


def joke_embed(text: str, requester: str, *, key: str | None) -> discord.Embed:
    """An approved joke for the public channel, crediting the requester by name (no ping)."""
    embed = discord.Embed(
        description=md(text, DESCRIPTION_MAX), colour=_colour(ReviewAction.APPROVE)
    )
    embed.set_footer(text=_footer(f"Requested by {requester}", key))
    return fit(embed)


def notice_embed(text: str, *, key: str | None, title: str | None = None) -> discord.Embed:
    """A notice to the requester or an alert to the moderators."""
    shown = plain(title, TITLE_MAX) if title else None
    embed = discord.Embed(title=shown, description=md(text, DESCRIPTION_MAX))
    embed.set_footer(text=_footer("jokebot", key))
    return fit(embed)


def ephemeral(text: str) -> str:
    """An answer only the clicker or requester sees (it may quote a name or a topic)."""
    return md(text, CONTENT_MAX) or "…"


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
    shown = message.embeds[0].description or ""
    return "" if shown == EMPTY_DRAFT else unescape(shown)


def form_modal(form: Form, custom_id: str, default: str = "") -> discord.ui.Modal:
    """A form as a modal; ``custom_id`` carries the token, so submits survive restarts."""
    modal = discord.ui.Modal(title=form.title, custom_id=custom_id)
    field: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        style=discord.TextStyle.paragraph,
        custom_id=form.field,
        default=form_value(default, form.max_length) or None,
        max_length=form.max_length,
        required=True,
    )
    modal.add_item(discord.ui.Label(text=form.label, component=field))
    return modal
