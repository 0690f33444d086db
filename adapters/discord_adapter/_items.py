"""Review-card buttons as DynamicItems: the wait token lives in the custom_id, not in memory.

Registered with ``add_dynamic_items`` in ``setup_hook`` on every start, so cards posted before
a restart keep working with no view kept anywhere.
"""

import logging
import re
from typing import Any

import discord

from adapters._review import button_id
from adapters.discord_adapter._handlers import GENERIC_FAILURE, decide, open_modal, tell
from adapters.discord_adapter._rules import (
    APPROVE,
    EDIT,
    EDIT_MODAL,
    PLATFORM,
    REASON,
    REASON_MODAL,
    REJECT,
    template,
)

log = logging.getLogger(__name__)

Button = discord.ui.Button[discord.ui.View]


def _button(token: str, action: str, label: str, emoji: str, style: discord.ButtonStyle) -> Button:
    return Button(label=label, emoji=emoji, style=style, custom_id=button_id(token, action))


async def _guarded(interaction: discord.Interaction, token: str, action: str) -> None:
    """Run one click; unexpected errors are logged with ids and answered, never silent."""
    try:
        if action in (APPROVE, REJECT):
            await decide(interaction, token, action)
        else:
            await open_modal(interaction, token, EDIT_MODAL if action == EDIT else REASON_MODAL)
    except Exception:
        log.exception(
            "%s: click failed (interaction=%s token=%s action=%s)",
            PLATFORM,
            interaction.id,
            token,
            action,
        )
        await tell(interaction, GENERIC_FAILURE)


class ApproveButton(discord.ui.DynamicItem[Button], template=template(APPROVE)):
    """✅ Approve: decide ``approve``."""

    def __init__(self, token: str) -> None:
        super().__init__(_button(token, APPROVE, "Approve", "✅", discord.ButtonStyle.success))
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /
    ) -> "ApproveButton":
        return cls(match["token"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, self.token, APPROVE)


class RejectButton(discord.ui.DynamicItem[Button], template=template(REJECT)):
    """❌ Reject: decide ``reject`` in one click, no reason."""

    def __init__(self, token: str) -> None:
        super().__init__(_button(token, REJECT, "Reject", "❌", discord.ButtonStyle.danger))
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /
    ) -> "RejectButton":
        return cls(match["token"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, self.token, REJECT)


class ReasonButton(discord.ui.DynamicItem[Button], template=template(REASON)):
    """💬 Reject with reason: opens a modal; its submit decides ``reject`` with the reason."""

    def __init__(self, token: str) -> None:
        label = "Reject with reason"
        super().__init__(_button(token, REASON, label, "💬", discord.ButtonStyle.secondary))
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /
    ) -> "ReasonButton":
        return cls(match["token"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, self.token, REASON)


class EditButton(discord.ui.DynamicItem[Button], template=template(EDIT)):
    """✏️ Edit: opens a modal prefilled with the draft; its submit decides ``edit``."""

    def __init__(self, token: str) -> None:
        super().__init__(_button(token, EDIT, "Edit", "✏️", discord.ButtonStyle.primary))
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /
    ) -> "EditButton":
        return cls(match["token"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await _guarded(interaction, self.token, EDIT)


ITEM_CLASSES = (ApproveButton, RejectButton, ReasonButton, EditButton)


def card_view(token: str) -> discord.ui.View:
    """The buttons of a pending review card (never stored: DynamicItems route the clicks)."""
    view = discord.ui.View(timeout=None)
    for cls in ITEM_CLASSES:
        view.add_item(cls(token))
    return view
