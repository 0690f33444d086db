"""The terminal surface: ``adapters.terminal.ChatApp`` in process, typed at through a pipe.

One local user is both requester and moderator. Keys go through an OS pipe into the real
:class:`~adapters.terminal.LineReader`; everything the chat loop and its sender print lands on
one :class:`Screen`. The driver waits on what the loop is doing (reading a line, or waiting for
a card), never on wall-clock time.
"""

import asyncio
import io
import os
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AsyncExitStack, asynccontextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import ClassVar, Literal, TextIO

import pytest

from adapters.terminal import ChatApp, LineReader, TerminalSender
from bot.models import EffectKind, OutboxEffect
from tests.support.llm import FakeLLM
from tests.support.stack import Stack, joke_stack
from tests.support.surfaces._base import Card, Click, Person, Unsupported
from tests.support.surfaces._driver import Driver

USER = "tester"
TOPIC_PROMPT = "Topic for a joke"
DECISION_PROMPT = "approve / reject [reason] / edit / quit: "
EDIT_PROMPT = "Your version: "
OFFER_PROMPT = "Continue it? [Y/n] "
CARD_HEADER = "── Draft "
DRAFTING = "Drafting…"
TIMEOUT_S = 5.0


@dataclass(frozen=True)
class Shown:
    """One effect the terminal's sender got, and exactly what it printed for it."""

    effect: OutboxEffect
    printed: str


class Screen:
    """The terminal window: every write (the chat loop's and the sender's), kept across restarts."""

    def __init__(self) -> None:
        self.text = ""
        self.app_writes: list[str] = []  # the chat loop's writes, each prompt or line separately
        self.shown: list[Shown] = []  # the sender's output, effect by effect
        self.changed = asyncio.Event()

    def pen(self, *, app: bool) -> TextIO:
        """A stream that writes onto this screen (as the chat loop when ``app``)."""
        return _Pen(self, app=app)

    def wrote(self, text: str, *, app: bool) -> None:
        self.text += text
        if app:
            self.app_writes.append(text)
        self.changed.set()

    async def until(self, check: Callable[[], bool], what: str) -> None:
        """Wait (each time something changes) until ``check()`` holds."""
        try:
            async with asyncio.timeout(TIMEOUT_S):
                while not check():
                    self.changed.clear()
                    await self.changed.wait()
        except TimeoutError:
            raise AssertionError(f"terminal: never {what}; screen:\n{self.text}") from None


class _Pen(io.StringIO):
    def __init__(self, screen: Screen, *, app: bool) -> None:
        super().__init__()
        self._screen, self._app = screen, app

    def write(self, s: str) -> int:
        self._screen.wrote(s, app=self._app)
        return super().write(s)


class _Keyboard(LineReader):
    """The real LineReader; also says when the chat loop is blocked reading a line."""

    def __init__(self, stream: TextIO, screen: Screen) -> None:
        super().__init__(stream)
        self.screen = screen
        self.reading = False
        self.lines = 0  # lines handed to the chat loop

    async def readline(self) -> str | None:
        self.reading = True
        self.screen.changed.set()
        try:
            line = await super().readline()
        finally:
            self.reading = False
        self.lines += 1
        self.screen.changed.set()
        return line


class _Arrivals(asyncio.Event):
    """The sender's "something arrived" event; counts the chat loop waiting on it for a card."""

    def __init__(self, screen: Screen) -> None:
        super().__init__()
        self.screen = screen
        self.waiting = 0

    async def wait(self) -> Literal[True]:
        self.waiting += 1
        self.screen.changed.set()
        try:
            return await super().wait()
        finally:
            self.waiting -= 1
            self.screen.changed.set()


class _Sender(TerminalSender):
    """The real TerminalSender, noting what it printed for each effect."""

    def __init__(self, screen: Screen) -> None:
        super().__init__(screen.pen(app=False))
        self.screen = screen
        self.arrivals = self.arrived = _Arrivals(screen)

    async def send(self, effect: OutboxEffect) -> str:
        before = len(self.screen.text)
        ref = await super().send(effect)
        self.screen.shown.append(Shown(effect, self.screen.text[before:]))
        return ref


@dataclass
class _Session:
    """One `jokebot chat` session: the chat loop's task, its keyboard and sender."""

    task: "asyncio.Task[int]"
    keys: TextIO
    keyboard: _Keyboard
    sender: _Sender

    def idle(self) -> bool:
        """Blocked on the keyboard, or waiting for a card that is not there yet."""
        if self.keyboard.reading:
            return True
        arrivals = self.sender.arrivals
        return (
            arrivals.waiting > 0 and not arrivals.is_set() and not any(self.sender.cards.values())
        )


class TerminalSurface(Driver):
    """The chat loop on a pipe: topics and decisions are typed; the screen is read back."""

    name = "terminal"
    capabilities = frozenset()  # one local moderator; only the draft on screen can be decided
    people: ClassVar[dict[Person, str]] = {Person.REQUESTER: USER, Person.MODERATOR: USER}

    def __init__(self, stack: Stack, llm: FakeLLM) -> None:
        super().__init__(stack, llm)
        self.screen = Screen()
        self._session: _Session | None = None

    @property
    def session(self) -> _Session:
        if self._session is None:
            raise RuntimeError("the terminal is closed")
        return self._session

    async def _connect(self, adapter: AsyncExitStack) -> None:
        read_end, write_end = os.pipe()
        keys = adapter.enter_context(open(write_end, "w", encoding="utf-8"))  # noqa: SIM115
        stream = adapter.enter_context(open(read_end, encoding="utf-8"))  # noqa: SIM115
        sender = _Sender(self.screen)
        self.stack.register("terminal", sender)
        keyboard = _Keyboard(stream, self.screen)
        app = ChatApp(
            self.stack.service,
            sender,
            keyboard,
            self.screen.pen(app=True),
            user=USER,
            model_label="FakeLLM",
            tty=False,
        )
        task = asyncio.create_task(app.run(), name="terminal-chat")
        task.add_done_callback(lambda _: self.screen.changed.set())
        self._session = _Session(task, keys, keyboard, sender)
        adapter.push_async_callback(self._close)
        await self._settle()

    async def _close(self) -> None:
        """End of input, as Ctrl-D: the chat loop says goodbye (drafts are kept) and returns."""
        session, self._session = self.session, None
        session.keys.close()
        try:
            async with asyncio.timeout(TIMEOUT_S):
                assert await session.task == 0
        finally:
            session.task.cancel()
            with suppress(asyncio.CancelledError):
                await session.task

    async def _settle(self) -> None:
        await self._until(lambda: self.session.idle(), "settled")

    async def _until(self, check: Callable[[], bool], what: str) -> None:
        """Wait on the screen until ``check()``; if the chat loop died meanwhile, say why."""
        task = self.session.task
        await self.screen.until(lambda: task.done() or check(), what)
        if task.done():
            raise AssertionError(f"terminal: the chat loop ended ({task.result()})")

    async def ask(self, topic: str, by: Person = Person.REQUESTER) -> str:
        self.display(by)
        await self._prompted(TOPIC_PROMPT)
        mark = len(self.screen.app_writes)
        await self._type(topic)
        await self._until(lambda: len(self.screen.app_writes) > mark + 1, "answered")
        return self.screen.app_writes[mark + 1].strip()  # the line after the echoed topic

    def cards(self) -> list[Card]:
        updates = {
            s.effect.payload["token"]: s.printed.strip()
            for s in self.screen.shown
            if s.effect.kind is EffectKind.REVIEW_UPDATE
        }
        return [
            Card(
                draft=str(s.effect.payload["card"]["draft"]),
                live=s.effect.payload["token"] not in updates,
                status=updates.get(s.effect.payload["token"], ""),
                seen={"token": s.effect.payload["token"]},
            )
            for s in self.screen.shown
            if s.effect.kind is EffectKind.REVIEW_POST
        ]

    async def approve(self, card: Card, by: Person = Person.MODERATOR) -> str:
        return await self._decide(card, "approve")

    async def reject(self, card: Card, by: Person = Person.MODERATOR) -> str:
        return await self._decide(card, "reject")

    async def reject_with_reason(
        self, card: Card, reason: str, by: Person = Person.MODERATOR
    ) -> str:
        return await self._decide(card, f"reject {reason}")

    async def edit(self, card: Card, text: str, by: Person = Person.MODERATOR) -> str:
        return await self._decide(card, "edit", text)

    async def click_together(self, card: Card, clicks: Sequence[Click]) -> list[str]:
        raise Unsupported("terminal: one local moderator; nobody else can click")

    def public_posts(self) -> list[str]:
        return self._printed(EffectKind.PUBLISH)

    def notices(self) -> list[str]:
        return self._printed(EffectKind.NOTIFY)

    def alerts(self) -> list[str]:
        return self._printed(EffectKind.ALERT)

    def _printed(self, kind: EffectKind) -> list[str]:
        return [s.printed.strip() for s in self.screen.shown if s.effect.kind is kind]

    async def _decide(self, card: Card, line: str, *more: str) -> str:
        """Bring ``card`` up, type the decision (and any follow-up lines); what was said back."""
        await self._show(card)
        mark = len(self.screen.app_writes)
        await self._type(line)
        for follow_up in more:
            await self._prompted(EDIT_PROMPT)
            await self._type(follow_up)
        await self._settle()
        echoes = {typed.strip() for typed in (line, *more)}
        said = [w.strip() for w in self.screen.app_writes[mark:] if w.endswith("\n")]
        return "\n".join(w for w in said if w not in echoes and w != DRAFTING)

    async def _show(self, card: Card) -> None:
        """Make the chat loop prompt for a decision on ``card``: accept the offer to continue a
        draft kept from an earlier session, then check the draft on screen is this card's."""
        await self._until(
            lambda: self._reading(DECISION_PROMPT) or self._reading(OFFER_PROMPT), "prompted"
        )
        if self._reading(OFFER_PROMPT):
            await self._type("y")
            await self._prompted(DECISION_PROMPT)
        shown = [w for w in self.screen.app_writes if CARD_HEADER in w][-1]
        if card.draft not in shown:
            raise Unsupported(f"terminal: only the draft on screen can be decided:\n{shown}")

    async def _prompted(self, prompt: str) -> None:
        await self._until(lambda: self._reading(prompt), f"prompted {prompt!r}")

    def _reading(self, prompt: str) -> bool:
        session = self._session
        writes = self.screen.app_writes
        return session is not None and session.keyboard.reading and prompt in writes[-1]

    async def _type(self, line: str) -> None:
        """Type one line and wait until the chat loop has read it."""
        keyboard = self.session.keyboard
        before = keyboard.lines
        self.session.keys.write(line + "\n")
        self.session.keys.flush()
        await self._until(lambda: keyboard.lines > before, f"read {line!r}")


@asynccontextmanager
async def open_terminal(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLLM
) -> AsyncIterator[TerminalSurface]:
    """`jokebot chat` in process over the real core; closed (end of input) on exit."""
    async with joke_stack(tmp_path, llm=llm, serve=False) as stack:
        surface = TerminalSurface(stack, llm)
        await surface.start()
        try:
            yield surface
        finally:
            await surface.stop()
