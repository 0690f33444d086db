"""What a click or a modal submit on a review card does: decide, then answer exactly once.

Every path ends in one visible answer (the card edited, or an ephemeral message); none lets
Discord show "This interaction failed".
"""

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import discord

from adapters.discord_adapter._render import card_draft
from adapters.discord_adapter._rules import (
    EDIT,
    EDIT_MODAL,
    PLATFORM,
    REASON_MODAL,
    REJECT,
    is_moderator,
    modal_id,
)
from bot.models import Actor, DecideResult, DecideStatus, DecisionRequest
from bot.ports import EventSink
from bot.review import outcome_line

log = logging.getLogger(__name__)

# Discord's initial-response deadline is 3 s; past this budget we defer and answer later.
ACK_BUDGET_S = 2.0
MODERATORS_ONLY = "Moderators only: you need the moderator role or Manage Messages."
UNAVAILABLE = "This draft is no longer available."
GENERIC_FAILURE = "Something went wrong on our side; please try again."
TEXT_FIELD, REASON_FIELD = "text", "reason"
_DECIDED_COLOURS = {
    "approve": discord.Colour.green(),
    "edit": discord.Colour.green(),
    "reject": discord.Colour.red(),
}
_WAIT_STATES = {
    "decided": "This draft has already been decided.",
    "expired": "This draft has expired: no moderator decided in time.",
    "cancelled": "This draft was cancelled.",
}


def sink_of(interaction: discord.Interaction) -> EventSink:
    """The EventSink of the JokeClient handling this interaction."""
    sink = getattr(interaction.client, "sink", None)
    if sink is None:
        raise RuntimeError("the Discord client has no jokebot sink")
    return sink  # type: ignore[no-any-return]  # set by JokeClient.__init__


async def actor_for(interaction: discord.Interaction, sink: EventSink) -> Actor:
    """The clicker as a neutral Actor; ``is_moderator`` from the guild's role or Manage Messages."""
    user = interaction.user
    role_ids = [role.id for role in user.roles] if isinstance(user, discord.Member) else []
    config = None
    if interaction.guild_id is not None:
        config = await sink.scope(PLATFORM, str(interaction.guild_id))
    moderator = is_moderator(
        role_ids,
        interaction.permissions.manage_messages,
        config.moderator_role if config else None,
    )
    return Actor(PLATFORM, str(user.id), user.display_name, is_moderator=moderator)


async def tell(interaction: discord.Interaction, text: str, *, deferred: bool = False) -> None:
    """An ephemeral answer: the initial response, or a followup once deferred."""
    try:
        if deferred or interaction.response.is_done():
            await interaction.followup.send(text, ephemeral=True)
        else:
            await interaction.response.send_message(text, ephemeral=True)
    except Exception:  # the last-resort answer: never let it raise out of an error path
        log.warning("discord: could not answer interaction %s", interaction.id, exc_info=True)


def _decided_embed(
    message: discord.Message | None, outcome: str, text: str | None
) -> discord.Embed | None:
    if message is None or not message.embeds:
        return None
    embed = message.embeds[0].copy()
    embed.colour = _DECIDED_COLOURS.get(outcome, discord.Colour.greyple())
    if text:
        embed.description = text
    return embed


async def _show_decided(
    interaction: discord.Interaction, line: str, embed: discord.Embed | None, *, deferred: bool
) -> None:
    """Edit the card in place (type 7, buttons removed), or say so if there is no card."""
    if interaction.message is None:
        await tell(interaction, line, deferred=deferred)
        return
    extra: dict[str, Any] = {"embed": embed} if embed is not None else {}
    try:
        if deferred:
            await interaction.edit_original_response(content=line, view=None, **extra)
        else:
            await interaction.response.edit_message(content=line, view=None, **extra)
    except discord.HTTPException:
        log.warning("discord: could not update card for %s", interaction.id, exc_info=True)


async def _defer_if_slow(interaction: discord.Interaction, task: "asyncio.Task[Any]") -> bool:
    """Wait for ``task`` up to the budget; defer (type 6) if it is not done. True if deferred."""
    done, _ = await asyncio.wait({task}, timeout=ACK_BUDGET_S)
    if done:
        return False
    try:
        await interaction.response.defer()
    except discord.HTTPException:
        log.warning("discord: defer failed for interaction %s", interaction.id, exc_info=True)
    return True


async def decide(
    interaction: discord.Interaction,
    token: str,
    action: str,
    data: Mapping[str, Any] | None = None,
) -> None:
    """Record a decision via the sink, then answer: edit the card or tell the clicker why not."""
    sink = sink_of(interaction)

    async def work() -> tuple[Actor, DecideResult]:
        actor = await actor_for(interaction, sink)
        request = DecisionRequest(token, action, actor, str(interaction.id), dict(data or {}))
        return actor, await sink.decide(request)

    task = asyncio.ensure_future(work())
    deferred = await _defer_if_slow(interaction, task)
    try:
        actor, result = await task
    except Exception:
        log.exception(
            "discord: decide failed (interaction=%s token=%s action=%s)",
            interaction.id,
            token,
            action,
        )
        await tell(interaction, GENERIC_FAILURE, deferred=deferred)
        return
    if result.status is not DecideStatus.APPLIED:
        await tell(interaction, result.message, deferred=deferred)
        return
    reason = str((data or {}).get("reason", ""))
    line = outcome_line(action, actor.display, reason)
    text = str((data or {}).get("text", "")) if action == EDIT else None
    await _show_decided(
        interaction, line, _decided_embed(interaction.message, action, text), deferred=deferred
    )


def _draft_from_wait(payload: Mapping[str, Any]) -> str | None:
    card = payload.get("card", payload)
    draft = card.get("draft") if isinstance(card, Mapping) else None
    return str(draft) if draft else None


async def _check_editable(
    interaction: discord.Interaction, sink: EventSink, token: str
) -> tuple[str | None, str | None]:
    """``(refusal, draft)``: why this moderator may not open the modal, else the current draft."""
    actor = await actor_for(interaction, sink)
    if not actor.is_moderator:
        return MODERATORS_ONLY, None
    info = await sink.wait_info(token)
    if info is None:
        return UNAVAILABLE, None
    if info.status != "pending":
        return _WAIT_STATES.get(info.status, UNAVAILABLE), None
    return None, _draft_from_wait(info.payload)


def edit_modal(token: str, draft: str) -> discord.ui.Modal:
    """The Edit modal, prefilled; its custom_id carries the token so submits survive restarts."""
    modal = discord.ui.Modal(title="Edit joke", custom_id=modal_id(token, EDIT_MODAL))
    field: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        style=discord.TextStyle.paragraph,
        custom_id=TEXT_FIELD,
        default=draft[:2000],
        max_length=2000,
        required=True,
    )
    modal.add_item(discord.ui.Label(text="Joke text", component=field))
    return modal


def reason_modal(token: str) -> discord.ui.Modal:
    """The Reject-with-reason modal."""
    modal = discord.ui.Modal(title="Reject joke", custom_id=modal_id(token, REASON_MODAL))
    field: discord.ui.TextInput[discord.ui.Modal] = discord.ui.TextInput(
        style=discord.TextStyle.paragraph, custom_id=REASON_FIELD, max_length=300, required=True
    )
    modal.add_item(discord.ui.Label(text="Why reject it?", component=field))
    return modal


async def _send_modal(interaction: discord.Interaction, modal: discord.ui.Modal) -> None:
    await interaction.response.send_modal(modal)
    # Modal submits are handled only by JokeClient.on_interaction (works after a restart and
    # for two moderators with the same modal id), so drop discord.py's in-memory copy.
    modal.stop()


async def open_modal(interaction: discord.Interaction, token: str, kind: str) -> None:
    """Edit / Reject-with-reason click: fast checks, then the modal as the first response."""
    sink = sink_of(interaction)
    try:
        refusal, draft = await asyncio.wait_for(
            _check_editable(interaction, sink, token), timeout=ACK_BUDGET_S - 0.5
        )
    except TimeoutError:
        # Checks are repeated by decide() on submit; do not miss the 3 s deadline for them.
        log.warning("discord: edit checks slow for token %s; opening the modal anyway", token)
        refusal, draft = None, None
    if refusal is not None:
        await tell(interaction, refusal)
        return
    if kind == EDIT_MODAL:
        await _send_modal(
            interaction, edit_modal(token, draft or card_draft(interaction.message) or "")
        )
    else:
        await _send_modal(interaction, reason_modal(token))


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


async def submit_modal(interaction: discord.Interaction, token: str, kind: str) -> None:
    """An Edit or Reject-with-reason modal was submitted (possibly after a restart)."""
    values = modal_values(interaction.data)
    if kind == EDIT_MODAL:
        text = values.get(TEXT_FIELD, "").strip()
        if not text:
            await tell(interaction, "The joke text is empty, so nothing was changed.")
            return
        await decide(interaction, token, EDIT, {"text": text})
    elif kind == REASON_MODAL:
        reason = values.get(REASON_FIELD, "").strip()
        if not reason:
            await tell(interaction, "Please give a reason, or use ❌ Reject.")
            return
        await decide(interaction, token, REJECT, {"reason": reason})
    else:
        await tell(interaction, UNAVAILABLE)
