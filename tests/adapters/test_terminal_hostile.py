"""tests/support/hostile.py through every terminal renderer: nothing reaches the TTY that acts.

What the terminal prints lands in the moderator's terminal emulator, so a control character is
an instruction there: ``\\x1b[…`` recolours or moves the cursor, ``\\r`` overwrites the line
(a draft that hides what precedes it), ``\\x07`` rings the bell, a direction override makes the
line read differently from what is stored. Every renderer of the terminal surface (the sender's
card update, publish, notice and alert lines; the chat loop's card) must print none of them.
"""

import io
import unicodedata
from typing import Any

import pytest

from adapters.terminal import PLATFORM, ChatApp, LineReader, TerminalSender, _Quit
from bot.models import Actor, EffectKind, Origin, OutboxEffect, WaitInfo
from bot.review import REVIEW
from tests.support.hostile import HOSTILE
from tests.support.links import ScriptedLinks

ORIGIN = Origin(PLATFORM, "local", Actor(PLATFORM, "me", "me"), "terminal", "terminal", "terminal")
_KEPT = {"\n", "\t", "\u200d"}  # a line break, a tab (only spacing); the emoji joiner


def acting(printed: str) -> list[str]:
    """The characters of ``printed`` a terminal would act on or hide (controls, format chars)."""
    return sorted(
        {
            f"U+{ord(c):04X}"
            for c in printed
            if unicodedata.category(c) in ("Cc", "Cf") and c not in _KEPT
        }
    )


def effect(kind: EffectKind, payload: dict[str, Any], n: int) -> OutboxEffect:
    return OutboxEffect(f"run1:{n}:{kind.value}", "run1", kind, ORIGIN, payload, "k")


def card(text: str) -> dict[str, Any]:
    return {
        "topic": text,
        "draft": text,
        "attempt": 1,
        "max_attempts": 3,
        "model_label": text,
        "requester": text,
    }


async def sender_output(text: str) -> str:
    out = io.StringIO()
    sender = TerminalSender(out)
    for n, (outcome, reason, edited, via) in enumerate(
        [("reject", text, "", ""), ("edit", "", text, "Slack"), ("approve", "", "", "Discord")]
    ):
        decided = {"token": "tok1", "card": card(text), "outcome": outcome, "actor": text}
        decided |= {"reason": reason, "text": edited, "via": via}
        await sender.send(effect(EffectKind.REVIEW_UPDATE, decided, n))
    await sender.send(effect(EffectKind.PUBLISH, {"text": text, "requester": text}, 5))
    await sender.send(effect(EffectKind.NOTIFY, {"text": text}, 6))
    await sender.send(effect(EffectKind.ALERT, {"text": text}, 7))
    return out.getvalue()


class _Quits(LineReader):
    """The moderator types ``quit`` (no reader thread: the test's loop closes after it)."""

    def __init__(self) -> None:
        super().__init__(io.StringIO())

    async def readline(self) -> str | None:
        return "quit"


class _OneCard(ScriptedLinks):
    """Just enough EventSink for ChatApp to show one card: the card is all it reads."""

    def __init__(self, text: str) -> None:
        self.wait = WaitInfo("tok1", "run1", REVIEW, "pending", card(text), ("approve",))


async def card_output(text: str) -> str:
    out = io.StringIO()
    app = ChatApp(
        _OneCard(text),  # type: ignore[arg-type]  # _review reads only the wait it is given
        TerminalSender(out),
        _Quits(),
        out,
        user="me",
        model_label=text,
        tty=False,
    )
    with pytest.raises(_Quit):  # the moderator quits at the prompt, after the card is shown
        await app._review(_OneCard(text).wait)
    return out.getvalue()


@pytest.mark.parametrize(("name", "text"), HOSTILE, ids=[name for name, _ in HOSTILE])
async def test_hostile_text_prints_nothing_a_terminal_acts_on(name: str, text: str) -> None:
    printed = await sender_output(text) + await card_output(text)

    assert acting(printed) == [], name


@pytest.mark.parametrize(("name", "text"), HOSTILE, ids=[name for name, _ in HOSTILE])
async def test_every_terminal_line_shows_the_text(name: str, text: str) -> None:
    printed = await sender_output(text)

    lines = [line for line in printed.splitlines() if line.strip()]
    assert any(line.strip().startswith("❌ Rejected by") for line in lines)
    assert any("via Slack" in line for line in lines)
    assert any(line.startswith("📣 To the audience:") for line in lines)
    assert any(line.startswith("💬") for line in lines)
    assert any(line.startswith("⚠️") for line in lines)
