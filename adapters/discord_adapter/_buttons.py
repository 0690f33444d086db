"""Review-card buttons as DynamicItems: the wait token lives in the custom_id, not in memory.

Registered with ``add_dynamic_items`` in ``setup_hook`` on every start, so cards posted before
a restart keep working with no view kept anywhere. Which buttons a card has, their labels and
what each does come from :data:`adapters._review.BUTTONS`; only the colours are Discord's.
"""

import re
from typing import Any, ClassVar, Self

import discord

from adapters._review import BUTTON_PREFIX, BUTTONS, REASON, button_for, button_id
from adapters.discord_adapter._inbound import TOKEN_RE
from adapters.discord_adapter._listeners import on_click
from bot.review import ReviewAction

Button = discord.ui.Button[discord.ui.View]
_STYLES = {
    ReviewAction.APPROVE: discord.ButtonStyle.success,
    ReviewAction.REJECT: discord.ButtonStyle.danger,
    REASON: discord.ButtonStyle.secondary,
    ReviewAction.EDIT: discord.ButtonStyle.primary,
}


def template(action: str) -> str:
    """The DynamicItem template for one card button, e.g. ``jk:v1:(?P<token>...):approve``."""
    return f"{BUTTON_PREFIX}:(?P<token>{TOKEN_RE}):{re.escape(action)}"


class CardButton(discord.ui.DynamicItem[Button], template=r"(?!)"):  # matches nothing itself
    """Shared behaviour of the card buttons; each subclass fixes ``action`` and its template."""

    action: ClassVar[str]

    def __init__(self, token: str) -> None:
        spec = button_for(self.action)
        if spec is None:
            raise ValueError(f"no card button for {self.action!r}")
        style = _STYLES[spec.action]
        custom_id = button_id(token, spec.action)
        super().__init__(
            Button(label=spec.label, emoji=spec.emoji, style=style, custom_id=custom_id)
        )
        self.token = token

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: Any, match: re.Match[str], /
    ) -> Self:
        return cls(match["token"])

    async def callback(self, interaction: discord.Interaction) -> None:
        await on_click(interaction, self.token, self.action)


class ApproveButton(CardButton, template=template(ReviewAction.APPROVE)):
    """✅ Approve: decide ``approve``."""

    action = ReviewAction.APPROVE


class RejectButton(CardButton, template=template(ReviewAction.REJECT)):
    """❌ Reject: decide ``reject`` in one click, no reason."""

    action = ReviewAction.REJECT


class ReasonButton(CardButton, template=template(REASON)):
    """💬 Reject with reason: opens a modal; its submit decides ``reject`` with the reason."""

    action = REASON


class EditButton(CardButton, template=template(ReviewAction.EDIT)):
    """✏️ Edit: opens a modal prefilled with the draft; its submit decides ``edit``."""

    action = ReviewAction.EDIT


_BY_ACTION = {c.action: c for c in (ApproveButton, RejectButton, ReasonButton, EditButton)}
# In the card's order; a button without a class here fails at import, not at the first click.
ITEM_CLASSES: tuple[type[CardButton], ...] = tuple(_BY_ACTION[b.action] for b in BUTTONS)


def card_view(token: str) -> discord.ui.View:
    """The buttons of a pending review card (never stored: DynamicItems route the clicks)."""
    view = discord.ui.View(timeout=None)
    for cls in ITEM_CLASSES:
        view.add_item(cls(token))
    return view
