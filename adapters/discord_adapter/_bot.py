"""JokeClient: the discord.py client with jokebot's commands, card buttons and fallbacks."""

import logging
from collections.abc import Callable, Mapping
from typing import Any

import discord
from discord import app_commands

from adapters.discord_adapter._commands import joke_command, jokeconfig_command, on_tree_error
from adapters.discord_adapter._handlers import UNAVAILABLE, submit_modal, tell
from adapters.discord_adapter._items import ITEM_CLASSES
from adapters.discord_adapter._rules import BUTTON_ACTIONS, MODAL_KINDS, PLATFORM, parse_ours
from bot.ports import EventSink

log = logging.getLogger(__name__)


def _component_ids(message: discord.Message | None) -> set[str]:
    """custom_ids of the buttons on a message (what DynamicItem dispatch can see)."""
    ids: set[str] = set()
    for row in message.components if message is not None else []:
        for child in getattr(row, "children", []):
            custom_id = getattr(child, "custom_id", None)
            if custom_id:
                ids.add(custom_id)
    return ids


def dynamic_item_will_handle(custom_id: str, message: discord.Message | None) -> bool:
    """Mirror of discord.py's DynamicItem dispatch: a template matches and the button is shown."""
    parsed = parse_ours(custom_id)
    return (
        parsed is not None and parsed[1] in BUTTON_ACTIONS and custom_id in _component_ids(message)
    )


class JokeClient(discord.Client):
    """The Discord side of jokebot; ``sink`` is the EventSink every event goes to."""

    def __init__(self, sink: EventSink, **options: Any) -> None:
        options.setdefault("intents", discord.Intents.default())
        options.setdefault("allowed_mentions", discord.AllowedMentions.none())
        super().__init__(**options)
        self.sink = sink
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(joke_command(sink))
        self.tree.add_command(jokeconfig_command(sink))
        self.tree.on_error = on_tree_error  # type: ignore[method-assign]  # documented override
        self._guard_interaction_parser()

    def _guard_interaction_parser(self) -> None:
        # A KeyError in a gateway parser ends Client.start() (discord.md §3.7): one malformed
        # INTERACTION_CREATE must be logged, not take the bot down.
        parsers: dict[str, Callable[[Any], None]] = self._connection.parsers
        original = parsers["INTERACTION_CREATE"]

        def guarded(data: Any) -> None:
            try:
                original(data)
            except Exception:
                ids = (data.get("id"), data.get("type")) if isinstance(data, dict) else (None, None)
                log.exception("%s: malformed INTERACTION_CREATE (id=%s type=%s)", PLATFORM, *ids)

        parsers["INTERACTION_CREATE"] = guarded

    async def setup_hook(self) -> None:
        # Every start: cards posted before a restart route by custom_id template alone.
        self.add_dynamic_items(*ITEM_CLASSES)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Modal submits for cards, and an answer for jk: clicks nobody else will handle."""
        try:
            await self._fallback(interaction)
        except Exception:
            log.exception("%s: interaction %s failed", PLATFORM, interaction.id)
            await tell(interaction, "Something went wrong on our side; please try again.")

    async def _fallback(self, interaction: discord.Interaction) -> None:
        data: Mapping[str, Any] = interaction.data or {}
        custom_id = str(data.get("custom_id", ""))
        parsed = parse_ours(custom_id) if custom_id.startswith("jk:") else None
        if interaction.type is discord.InteractionType.modal_submit:
            if parsed is not None and parsed[1] in MODAL_KINDS:
                await submit_modal(interaction, *parsed)
            elif custom_id.startswith("jk:"):
                await tell(interaction, UNAVAILABLE)
        elif (
            interaction.type is discord.InteractionType.component
            and custom_id.startswith("jk:")
            and not dynamic_item_will_handle(custom_id, interaction.message)
        ):
            await tell(interaction, UNAVAILABLE)
