"""Unit tests of the Discord adapter's pure parts: ids, permissions, translation, rendering."""

import re
from types import SimpleNamespace
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import discord
import pytest

from adapters._review import BUTTON_ACTIONS, EDIT_FORM, button_id
from adapters.discord_adapter._buttons import ITEM_CLASSES, card_view, template
from adapters.discord_adapter._config import invite_url
from adapters.discord_adapter._errors import to_send_error
from adapters.discord_adapter._inbound import joke_request, modal_values, parse_ours
from adapters.discord_adapter._moderators import is_moderator
from adapters.discord_adapter._render import card_embed, decided_embed, footer_key, joke_embed
from adapters.discord_adapter._sender import run_snowflake
from bot.errors import SendError
from bot.models import Actor, Origin
from bot.review import Card, CardUpdate

CARD: Card = {
    "topic": "cats",
    "draft": "Why do cats sit on keyboards? To keep an eye on the mouse.",
    "attempt": 2,
    "max_attempts": 3,
    "model_label": "FakeLLM (scripted test model)",
    "requester": "Alice",
}


@pytest.mark.parametrize("action", BUTTON_ACTIONS)
def test_template_matches_exactly_the_button_id(action: str) -> None:
    custom_id = button_id("Ab12", action)

    match = re.fullmatch(template(action), custom_id)

    assert match is not None
    assert match.group("token") == "Ab12"
    assert len(custom_id) <= 100


@pytest.mark.parametrize(
    "custom_id",
    ["jk:v1:Ab12:approvex", "jk:v2:Ab12:approve", "jk:v1:Ab-12:approve", "jk:v1::approve"],
)
def test_template_rejects_other_ids(custom_id: str) -> None:
    assert re.fullmatch(template("approve"), custom_id) is None


@pytest.mark.parametrize(
    ("custom_id", "expected"),
    [
        ("jk:v1:Ab12:approve", ("Ab12", "approve")),
        ("jk:v1:Ab12:editmodal", ("Ab12", "editmodal")),
        ("jk:v1:Äb12:approve", None),  # str.isalnum accepts it; our ASCII templates do not
        ("jk:v1:Ab12", None),
        ("other:thing", None),
    ],
)
def test_parse_ours(custom_id: str, expected: tuple[str, str] | None) -> None:
    assert parse_ours(custom_id) == expected


def test_modal_id_carries_the_token() -> None:
    assert button_id("Tok9", EDIT_FORM.kind) == "jk:v1:Tok9:editmodal"


@pytest.mark.parametrize(
    ("roles", "manage_messages", "configured", "expected"),
    [
        ([111], False, "111", True),
        ([222], False, "111", False),
        ([], True, "111", True),  # Manage Messages is enough
        ([], True, None, True),
        ([111], False, None, False),  # guild not set up: only Manage Messages counts
        ([111], False, "", False),
        ([111], False, "not-a-number", False),
    ],
)
def test_is_moderator(
    roles: list[int], manage_messages: bool, configured: str | None, expected: bool
) -> None:
    assert is_moderator(roles, manage_messages, configured) is expected


def test_invite_url_has_exactly_the_two_scopes_and_needed_permissions() -> None:
    url = invite_url(1234)

    query = parse_qs(urlsplit(url).query)
    assert urlsplit(url).netloc == "discord.com"
    assert query["client_id"] == ["1234"]
    assert query["scope"] == ["bot applications.commands"]
    perms = discord.Permissions(int(query["permissions"][0]))
    assert perms == discord.Permissions(
        view_channel=True,
        send_messages=True,
        send_messages_in_threads=True,  # the closed-DM notice may go to a thread
        read_message_history=True,
        embed_links=True,
    )
    assert query["permissions"] == ["274877991936"]  # the integer docs/discord-setup.md shows


def test_joke_request_translation() -> None:
    request = joke_request(
        interaction_id=42, guild_id=7, channel_id=9, user_id=5, display="Alice", topic="cats"
    )

    assert request.request_key == "discord:42"
    assert request.topic == "cats"
    assert request.origin == Origin(
        platform="discord",
        scope="7",
        requester=Actor("discord", "5", "Alice", name="Alice"),
        mod_channel="",
        public_channel="",
        reply_channel="9",
    )


@pytest.mark.parametrize(
    ("run_id", "expected"),
    [("discord:1575472108538953730", 1575472108538953730), ("slack:T1", None), ("discord:x", None)],
)
def test_run_snowflake(run_id: str, expected: int | None) -> None:
    assert run_snowflake(run_id) == expected


@pytest.mark.parametrize(
    "components",
    [
        [{"type": 18, "id": 1, "component": {"type": 4, "custom_id": "text", "value": "hi"}}],
        [{"type": 1, "components": [{"type": 4, "custom_id": "text", "value": "hi"}]}],
    ],
    ids=["label", "action-row"],
)
def test_modal_values_reads_both_shapes(components: list[dict[str, Any]]) -> None:
    assert modal_values({"custom_id": "m", "components": components}) == {"text": "hi"}


def test_modal_values_tolerates_garbage() -> None:
    assert modal_values({"components": ["x", {"type": 1}]}) == {}
    assert modal_values(None) == {}


def test_card_embed_shows_everything_the_moderator_needs() -> None:
    embed = card_embed(CARD, key="k123").to_dict()

    assert embed["description"] == CARD["draft"]
    fields = {f["name"]: f["value"] for f in embed["fields"]}
    assert fields == {"Topic": "cats", "Requested by": "Alice", "Attempt": "2 of 3"}
    assert embed["footer"]["text"] == "FakeLLM (scripted test model) · ref k123"


def test_decided_card_uses_the_outcome_line_and_edited_text() -> None:
    payload: CardUpdate = {
        "token": "Tok1",
        "card": CARD,
        "outcome": "edit",
        "actor": "Mo",
        "reason": "",
        "text": "Better.",
    }

    line, embed = decided_embed(payload)

    assert line == "✏️ Edited and approved by Mo"
    assert embed.description == "Better."


def test_decided_card_reject_with_reason() -> None:
    payload: CardUpdate = {
        "token": "Tok1",
        "card": CARD,
        "outcome": "reject",
        "actor": "Mo",
        "reason": "meh",
        "text": "",
    }

    line, _ = decided_embed(payload)

    assert line == "❌ Rejected by Mo: meh"


def _message_with_embed(embed: discord.Embed) -> discord.Message:
    return cast(discord.Message, SimpleNamespace(embeds=[embed]))


def test_footer_key_round_trip() -> None:
    message = _message_with_embed(joke_embed("A joke", "Alice", key="abc"))

    assert footer_key(message) == "abc"
    assert footer_key(_message_with_embed(joke_embed("A joke", "Alice", key=None))) is None


def test_card_view_has_four_restart_proof_buttons() -> None:
    view = card_view("Tok1")

    ids = [getattr(item, "custom_id", None) for item in view.walk_children()]
    assert view.timeout is None
    assert len(ITEM_CLASSES) == 4
    assert {i for i in ids if i} == {
        "jk:v1:Tok1:approve",
        "jk:v1:Tok1:reject",
        "jk:v1:Tok1:reason",
        "jk:v1:Tok1:edit",
    }


def _http_exception(status: int, code: int = 0, headers: dict[str, str] | None = None) -> Any:
    response = SimpleNamespace(status=status, reason="x", headers=headers or {})
    return discord.HTTPException(cast(Any, response), {"code": code, "message": "boom"})


@pytest.mark.parametrize(
    ("status", "retryable"), [(403, False), (404, False), (400, False), (429, True), (408, True)]
)
def test_http_errors_map_to_send_error(status: int, retryable: bool) -> None:
    error = to_send_error(_http_exception(status, headers={"Retry-After": "2.5"}), creates=True)

    assert isinstance(error, SendError)
    assert error.retryable is retryable
    assert str(status) in str(error)
    assert error.retry_after == (2.5 if status == 429 else None)
