"""Every Discord renderer against the hostile corpus: nothing live, no limit exceeded.

"Live" means Discord would render it as more than the literal text: a mention or channel
link, markdown (emphasis, spoilers, code, masked links, headings, quotes, lists), a control
character or a direction override. Limits are the fake Discord's rules (tests/support/
fake_discord/_rules.py), so a body these tests accept is one the fake (and Discord) accepts.
"""

import re
import unicodedata
from types import SimpleNamespace
from typing import Any, cast

import discord
import pytest

from adapters._review import EDIT_FORM, REASON_FORM, Form
from adapters.discord_adapter._render import (
    card_draft,
    card_embed,
    clicked_embed,
    decided_embed,
    decided_line,
    ephemeral,
    fit,
    form_modal,
    joke_embed,
    notice_embed,
)
from bot.review import Card, CardUpdate
from tests.support.fake_discord._rules import message_errors, modal_errors
from tests.support.hostile import HOSTILE, LOOKALIKE_NAMES

NAMES = [name for name, _ in HOSTILE]
TEXTS = [text for _, text in HOSTILE]
LONG = dict(HOSTILE)["long"]
_BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c")
_MENTION = re.compile(r"<[@#:/!]|<a:|<t:|@everyone|@here")
_INLINE = re.compile(r"(?<!\\)(?:\\\\)*[*_~|`\[\]]")  # not preceded by an odd run of \
_LINE = re.compile(r"^\s*(?:[#>+-]|\d+\.)", re.MULTILINE)


def unsafe_chars(text: str) -> list[str]:
    return [
        f"U+{ord(c):04X}"
        for c in text
        if c in _BIDI or (unicodedata.category(c) == "Cc" and c != "\n")
    ]


def live(text: str, *, markdown: bool = True) -> list[str]:
    """What in ``text`` Discord would still render as more than text."""
    found = unsafe_chars(text) + _MENTION.findall(text)
    if markdown:
        found += _INLINE.findall(text) + _LINE.findall(text)
    return found


def check_embed(embed: discord.Embed, content: str | None = None) -> None:
    body: dict[str, Any] = {"embeds": [embed.to_dict()]}
    if content is not None:
        body["content"] = content
        assert live(content) == []
    assert message_errors(body) == {}
    assert len(embed) <= 6000
    assert live(embed.description or "") == []
    for field in embed.fields:
        assert live(field.value or "") == []
    assert live(embed.footer.text or "", markdown=False) == []


def card(text: str) -> Card:
    return {
        "topic": text,
        "draft": text,
        "attempt": 2,
        "max_attempts": 3,
        "model_label": text,
        "requester": text,
    }


@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_review_card(text: str) -> None:
    check_embed(card_embed(card(text), key="k" * 25))


@pytest.mark.parametrize("outcome", ["approve", "edit", "reject", "timeout", "cancel", "odd"])
@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_decided_card_with_reason_and_names(text: str, outcome: str) -> None:
    update: CardUpdate = {
        "token": "Tok1",
        "card": card(text),
        "outcome": outcome,
        "actor": text,
        "reason": text,
        "text": text,
    }

    line, embed = decided_embed(update)

    check_embed(embed, line)
    assert len(line) <= 2000


@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_joke_post(text: str) -> None:
    check_embed(joke_embed(text, text, key="k" * 25))


@pytest.mark.parametrize("title", [None, "⚠️ jokebot"], ids=["notice", "alert"])
@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_notice_and_alert(text: str, title: str | None) -> None:
    check_embed(notice_embed(text, key="k" * 25, title=title))


@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_clicked_card_shows_an_edit_inertly(text: str) -> None:
    message = cast(discord.Message, SimpleNamespace(embeds=[card_embed(card("x"), key="k1")]))

    embed = clicked_embed(message, "edit", text)

    assert embed is not None
    check_embed(embed)


@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_ephemeral_answers_and_click_status_lines(text: str) -> None:
    for content in (ephemeral(text), decided_line("reject", text, text)):
        assert live(content) == []
        assert message_errors({"content": content}) == {}


@pytest.mark.parametrize("form", [EDIT_FORM, REASON_FORM], ids=["edit", "reason"])
@pytest.mark.parametrize("text", TEXTS, ids=NAMES)
def test_modals(text: str, form: Form) -> None:
    modal = form_modal(form, "jk:v1:Tok1:" + form.kind, text)

    data = modal.to_dict()

    assert modal_errors(data) == {}
    [label] = data["components"]
    value = label["component"].get("value") or ""
    assert unsafe_chars(value) == []  # a text input shows raw text: no escaping, just clean
    assert len(value) <= form.max_length


def test_the_embed_total_holds_with_5000_characters_in_every_field() -> None:
    embed = card_embed(card(LONG), key="k" * 25)

    assert len(embed) <= 6000
    assert message_errors({"embeds": [embed.to_dict()]}) == {}
    assert (embed.footer.text or "").endswith(" · ref " + "k" * 25)  # reconcile's key survives


def test_a_prefilled_form_gets_the_text_back_not_the_escapes() -> None:
    text = "**Bold** claim: @everyone <@123456789012345678> likes _cats_ [x](y)"
    message = cast(discord.Message, SimpleNamespace(embeds=[card_embed(card(text), key="k")]))

    assert card_draft(message) == text


def test_fit_holds_any_embed_to_the_total_and_keeps_the_footer() -> None:
    embed = discord.Embed(title="t" * 256, description="d" * 4096)
    for i in range(3):
        embed.add_field(name=f"f{i}", value="v" * 1024)
    embed.set_footer(text="label · ref key123")

    fitted = fit(embed)

    assert len(fitted) <= 6000
    assert fitted.footer.text == "label · ref key123"
    assert fitted.title == "t" * 256
    assert message_errors({"embeds": [fitted.to_dict()]}) == {}


def requested_by(embed: discord.Embed) -> str:
    return next(str(f.value) for f in embed.fields if f.name == "Requested by")


@pytest.mark.parametrize(
    ("origin", "name", "shown"),
    [
        ("slack", "ana", "ana (Slack)"),  # the Slack user's name, never their <@U…> mention
        ("discord", "Ana", "Ana"),  # same platform: the display name, as before
        ("terminal", "ann", "ann (the terminal)"),
        ("", "Ana", "Ana"),  # a card from before requesters had platforms
    ],
)
def test_card_names_the_requester_with_their_platform(origin: str, name: str, shown: str) -> None:
    shape = card("x") | {"requester": "<@UREQ>" if origin == "slack" else name}
    if origin:
        shape |= {"requester_name": name, "requester_platform": origin}

    embed = card_embed(shape, key="k1")

    assert requested_by(embed) == shown


@pytest.mark.parametrize("text", TEXTS + [t for _, t in LOOKALIKE_NAMES])
def test_requester_from_another_platform_is_inert(text: str) -> None:
    shape = card("x") | {"requester": text, "requester_name": text, "requester_platform": "slack"}
    update: CardUpdate = {
        "token": "Tok1",
        "card": shape,
        "outcome": "approve",
        "actor": text,
        "reason": "",
        "text": "",
        "via": "Slack",
    }

    embed = card_embed(shape, key="k1")
    line, decided = decided_embed(update)

    check_embed(embed)
    check_embed(decided, line)
    assert requested_by(embed).endswith("(Slack)")


@pytest.mark.parametrize(
    ("via", "shown"),
    [
        ("Slack", "✅ Approved by mo via Slack"),  # the Slack moderator's name, not <@U2>
        ("Discord", "✅ Approved by Mo via Discord"),  # decided here: the display name
        ("", "✅ Approved by Mo"),
    ],
)
def test_decider_from_another_platform_is_named(via: str, shown: str) -> None:
    actor = "<@U2>" if via == "Slack" else "Mo"
    update: CardUpdate = {
        "token": "Tok1",
        "card": card("x"),
        "outcome": "approve",
        "actor": actor,
        "actor_name": "mo" if via == "Slack" else "Mo",
        "reason": "",
        "text": "",
        "via": via,
    }

    line, _ = decided_embed(update)

    assert line == shown
