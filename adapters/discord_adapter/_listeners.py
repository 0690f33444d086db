"""What a click or a modal submit on a review card does: decide, then answer exactly once.

Every path ends in one visible answer (the card edited, or an ephemeral message); none lets
Discord show "This interaction failed".
"""

import asyncio
import logging
from collections.abc import Mapping
from typing import Any

import discord

from adapters._review import (
    BUTTON_ACTIONS,
    FORMS,
    GENERIC_FAILURE,
    UNAVAILABLE,
    Form,
    Prefill,
    answer,
    button_for,
    button_id,
    prefill,
    within_deadline,
)
from adapters.discord_adapter._config import PLATFORM
from adapters.discord_adapter._inbound import component_ids, modal_values, parse_ours
from adapters.discord_adapter._moderators import actor_for
from adapters.discord_adapter._render import (
    card_draft,
    clicked_embed,
    decided_line,
    ephemeral,
    form_modal,
)
from bot.models import Actor, DecideResult, DecideStatus, DecisionRequest
from bot.ports import EventSink
from bot.review import MODERATOR_ACTIONS

log = logging.getLogger(__name__)

# Discord's initial-response deadline is 3 s from the interaction's creation; past this
# budget (counted from the same moment) we defer and answer later.
ACK_BUDGET_S = 2.0
MODERATORS_ONLY = "Moderators only: you need the moderator role or Manage Messages."


def sink_of(interaction: discord.Interaction) -> EventSink:
    """The EventSink of the JokeClient handling this interaction."""
    sink = getattr(interaction.client, "sink", None)
    if sink is None:
        raise RuntimeError("the Discord client has no jokebot sink")
    return sink  # type: ignore[no-any-return]  # set by JokeClient.__init__


def budget_left(interaction: discord.Interaction) -> float:
    """Seconds of :data:`ACK_BUDGET_S` left, counted from the interaction's snowflake time.

    Gateway delay and queueing before the handler started are already spent. A clock
    behind Discord's counts as no delay; one far ahead only makes us defer early (harmless).
    """
    age = (discord.utils.utcnow() - interaction.created_at).total_seconds()
    return max(0.0, ACK_BUDGET_S - max(0.0, age))


async def tell(interaction: discord.Interaction, text: str, *, markdown: bool = False) -> None:
    """An ephemeral answer: the initial response, or a followup once responded or deferred.

    ``text`` is escaped, unless ``markdown`` says it is ours with markdown meant (see
    :func:`ephemeral`).
    """
    shown = ephemeral(text, markdown=markdown)
    try:
        if interaction.response.is_done():
            await interaction.followup.send(shown, ephemeral=True)
        else:
            await interaction.response.send_message(shown, ephemeral=True)
    except Exception:  # the last-resort answer: never let it raise out of an error path
        log.warning("%s: could not answer interaction %s", PLATFORM, interaction.id, exc_info=True)


async def on_click(interaction: discord.Interaction, token: str, action: str) -> None:
    """One card button: decide at once, or open its form; unexpected errors are answered."""
    button = button_for(action)
    try:
        if button is not None and button.form is not None:
            await open_form(interaction, token, button.form)
        else:
            await decide(interaction, token, action)
    except Exception:
        log.exception(
            "%s: click failed (interaction=%s token=%s action=%s)",
            PLATFORM,
            interaction.id,
            token,
            action,
        )
        await tell(interaction, GENERIC_FAILURE)


async def _defer_update(interaction: discord.Interaction) -> None:
    try:
        await interaction.response.defer()  # type 6: the card is edited later
    except discord.HTTPException:
        log.warning("%s: defer failed for interaction %s", PLATFORM, interaction.id, exc_info=True)


async def decide(
    interaction: discord.Interaction,
    token: str,
    action: str,
    data: Mapping[str, str] | None = None,
) -> None:
    """Record a decision via the sink, then answer: edit the card or tell the clicker why not.

    Only a moderator's actions are ever decided from Discord; anything else a custom_id may
    carry (``timeout`` is the runtime's own) is answered as unavailable.
    """
    if action not in MODERATOR_ACTIONS:
        log.warning("%s: refused action %r from interaction %s", PLATFORM, action, interaction.id)
        await tell(interaction, UNAVAILABLE)
        return
    sink = sink_of(interaction)
    data = dict(data or {})

    async def work() -> tuple[Actor, DecideResult]:
        actor = await actor_for(interaction, sink)
        request = DecisionRequest(token, action, actor, str(interaction.id), data)
        return actor, await sink.decide(request)

    try:
        (actor, result), _ = await within_deadline(
            work(), budget_left(interaction), lambda: _defer_update(interaction)
        )
    except Exception:
        log.exception(
            "%s: decide failed (interaction=%s token=%s action=%s)",
            PLATFORM,
            interaction.id,
            token,
            action,
        )
        await tell(interaction, GENERIC_FAILURE)
        return
    if result.status is not DecideStatus.APPLIED:
        await tell(interaction, answer(result))
        return
    line = decided_line(action, actor.display, data.get("reason", ""))
    await _show_decided(
        interaction, line, clicked_embed(interaction.message, action, data.get("text", ""))
    )


async def _show_decided(
    interaction: discord.Interaction, line: str, embed: discord.Embed | None
) -> None:
    """Edit the card in place (type 7, buttons removed), or say so if there is no card."""
    if interaction.message is None:
        await tell(interaction, line)
        return
    extra: dict[str, Any] = {"embed": embed} if embed is not None else {}
    try:
        if interaction.response.is_done():
            await interaction.edit_original_response(content=line, view=None, **extra)
        else:
            await interaction.response.edit_message(content=line, view=None, **extra)
    except discord.HTTPException:
        log.warning("%s: could not update card for %s", PLATFORM, interaction.id, exc_info=True)


async def _check_form(interaction: discord.Interaction, sink: EventSink, token: str) -> Prefill:
    """Whether this clicker may open a form on this review, and the draft to prefill."""
    actor = await actor_for(interaction, sink)
    if not actor.is_moderator:
        return Prefill(refusal=MODERATORS_ONLY)
    return await prefill(sink, token)


async def open_form(interaction: discord.Interaction, token: str, form: Form) -> None:
    """Edit / Reject-with-reason click: fast checks, then the modal as the first response."""
    sink = sink_of(interaction)
    try:
        found = await asyncio.wait_for(
            _check_form(interaction, sink, token), timeout=max(0.0, budget_left(interaction) - 0.5)
        )
    except TimeoutError:
        # Checks are repeated by decide() on submit; do not miss the 3 s deadline for them.
        log.warning("%s: form checks slow for token %s; opening it anyway", PLATFORM, token)
        found = Prefill()
    if found.refusal is not None:
        await tell(interaction, found.refusal)
        return
    default = (found.draft or card_draft(interaction.message) or "") if form.prefilled else ""
    modal = form_modal(form, button_id(token, form.kind), default)
    await interaction.response.send_modal(modal)
    # Modal submits are handled only by on_interaction (works after a restart and for two
    # moderators with the same modal id), so drop discord.py's in-memory copy.
    modal.stop()


async def submit_form(interaction: discord.Interaction, token: str, form: Form) -> None:
    """An Edit or Reject-with-reason modal was submitted (possibly after a restart)."""
    data = form.data(modal_values(interaction.data).get(form.field, ""))
    if data is None:
        await tell(interaction, form.empty)
        return
    await decide(interaction, token, form.action, data)


async def on_interaction(interaction: discord.Interaction) -> None:
    """Modal submits for cards, and an answer for jk: clicks nobody else will handle."""
    try:
        await _fallback(interaction)
    except Exception:
        log.exception("%s: interaction %s failed", PLATFORM, interaction.id)
        await tell(interaction, GENERIC_FAILURE)


def dynamic_item_will_handle(custom_id: str, message: discord.Message | None) -> bool:
    """Mirror of discord.py's DynamicItem dispatch: a template matches and the button is shown."""
    parsed = parse_ours(custom_id)
    return (
        parsed is not None and parsed[1] in BUTTON_ACTIONS and custom_id in component_ids(message)
    )


async def _fallback(interaction: discord.Interaction) -> None:
    data: Mapping[str, Any] = interaction.data or {}
    custom_id = str(data.get("custom_id", ""))
    if not custom_id.startswith("jk:"):
        return  # not ours: slash commands go to the command tree
    parsed = parse_ours(custom_id)
    if interaction.type is discord.InteractionType.modal_submit:
        form = FORMS.get(parsed[1]) if parsed is not None else None
        if parsed is not None and form is not None:
            await submit_form(interaction, parsed[0], form)
        else:
            await tell(interaction, UNAVAILABLE)
    elif interaction.type is discord.InteractionType.component and not dynamic_item_will_handle(
        custom_id, interaction.message
    ):
        await tell(interaction, UNAVAILABLE)
