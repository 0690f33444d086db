r"""Terminal adapter: the tutorial's approve / reject / edit loop on the durable runtime.

The terminal is both the requester and the moderator. With a TTY it shows a spinner while
drafting; without one it reads plain lines and prints plain text, so it is scriptable:
``printf 'cats\nreject\napprove\n' | jokebot chat``. Quitting (``quit``, EOF, Ctrl-C)
while a draft waits keeps it: the next ``jokebot chat`` offers to continue it.
"""

import asyncio
import contextlib
import itertools
import threading
import uuid
from collections import defaultdict
from typing import TextIO, cast

from adapters._review import status_line
from adapters._text import printable
from bot.models import (
    Actor,
    DecideStatus,
    DecisionRequest,
    EffectKind,
    JokeRequest,
    Origin,
    OutboxEffect,
    PublishPayload,
    RequestStatus,
    TextPayload,
    WaitInfo,
)
from bot.ports import ChatSink
from bot.review import Card, CardPost, CardUpdate, ReviewAction

PLATFORM, SCOPE, CHANNEL = "terminal", "local", "terminal"
ENDED = {"finished", "failed", "cancelled"}
HELP = "Type approve, reject [reason], edit, or quit."


class TerminalSender:
    """EffectSender for the terminal: prints notices, hands review cards to the chat loop."""

    def __init__(self, out: TextIO) -> None:
        self._out = out
        self.cards: dict[str, list[OutboxEffect]] = defaultdict(list)  # run_id -> cards
        self.arrived = asyncio.Event()

    async def send(self, effect: OutboxEffect) -> str:
        kind = effect.kind
        if kind == EffectKind.REVIEW_POST:
            self.cards[effect.run_id].append(effect)
        elif kind == EffectKind.PUBLISH:
            joke = cast(PublishPayload, effect.payload)
            self._say(
                f"\n📣 To the audience: {joke['text']}\n   (requested by {joke['requester']})"
            )
        elif kind == EffectKind.REVIEW_UPDATE:
            self._say(f"   {status_line(cast(CardUpdate, effect.payload), PLATFORM)}")
        elif kind == EffectKind.ALERT:
            self._say(f"⚠️  {cast(TextPayload, effect.payload)['text']}")
        else:
            self._say(f"💬 {cast(TextPayload, effect.payload)['text']}")
        self.arrived.set()
        return f"{PLATFORM}:{effect.effect_id}"

    async def reconcile(self, effect: OutboxEffect) -> str | None:
        # Terminal output cannot be looked up: showing a line twice beats losing it.
        return None

    async def exists(self, effect: OutboxEffect) -> bool | None:
        # A printed card cannot be deleted; the chat loop shows pending cards on resume.
        return True

    def _say(self, text: str) -> None:
        self._out.write(printable(text) + "\n")  # user text never reaches the TTY as control
        self._out.flush()


class LineReader:
    """Reads stdin lines on a daemon thread (so Ctrl-C never waits for a blocked read)."""

    def __init__(self, stream: TextIO) -> None:
        self._stream = stream
        self._queue: asyncio.Queue[str | None] = asyncio.Queue()
        self._started = False

    async def readline(self) -> str | None:
        """The next line without its newline, or None at end of input."""
        if not self._started:
            self._started = True
            loop = asyncio.get_running_loop()
            threading.Thread(target=self._pump, args=(loop,), daemon=True).start()
        return await self._queue.get()

    def _pump(self, loop: asyncio.AbstractEventLoop) -> None:
        for line in iter(self._stream.readline, ""):
            loop.call_soon_threadsafe(self._queue.put_nowait, line.rstrip("\r\n"))
        loop.call_soon_threadsafe(self._queue.put_nowait, None)


class _Quit(Exception):  # control flow, not an error
    """The user quit (or input ended) while a draft may be waiting."""


class ChatApp:
    """The interactive loop: topic -> draft card -> decision -> next draft or the audience."""

    def __init__(
        self,
        sink: ChatSink,
        sender: TerminalSender,
        reader: LineReader,
        out: TextIO,
        *,
        user: str,
        model_label: str,
        tty: bool,
    ) -> None:
        self._sink, self._sender, self._reader, self._out = sink, sender, reader, out
        self._tty, self._label = tty, model_label
        self._actor = Actor(PLATFORM, user, user, is_moderator=True, name=user)

    async def run(self) -> int:
        """Run until quit or end of input; returns the process exit status."""
        self._say(f"jokebot — model: {self._label}")
        try:
            await self._offer_pending()
            while True:
                topic = await self._ask("\nTopic for a joke (or quit): ")
                if topic.strip().lower() in {"quit", "exit", "q"}:
                    raise _Quit
                await self._request(topic)
        except _Quit:
            await self._goodbye()
            return 0

    async def _request(self, topic: str) -> None:
        origin = Origin(PLATFORM, SCOPE, self._actor, CHANNEL, CHANNEL, CHANNEL)
        key = f"{PLATFORM}:{uuid.uuid4().hex}"
        result = await self._sink.request_joke(JokeRequest(key, origin, topic))
        self._say(result.message)
        if result.status == RequestStatus.ACCEPTED and result.run_id is not None:
            await self._follow(result.run_id)

    async def _offer_pending(self) -> None:
        for wait in await self._sink.pending_reviews(PLATFORM, SCOPE):
            topic = cast(Card, wait.payload).get("topic", "?")
            answer = await self._ask(
                f"A draft about “{topic}” is still waiting. Continue it? [Y/n] "
            )
            if answer.strip().lower() in {"", "y", "yes"}:
                self._sender.cards.pop(wait.run_id, None)  # shown now, not again
                action = await self._review(wait)
                await self._follow(wait.run_id, drafting=action == ReviewAction.REJECT)

    async def _follow(self, run_id: str, *, drafting: bool = True) -> None:
        """Show each new card of the run and take decisions until the run ends."""
        while (card := await self._next_card(run_id, drafting)) is not None:
            wait = await self._sink.wait_info(cast(CardPost, card.payload)["token"])
            if wait is not None and wait.status == "pending":
                drafting = await self._review(wait) == ReviewAction.REJECT

    async def _next_card(self, run_id: str, drafting: bool) -> OutboxEffect | None:
        spinner = itertools.cycle("⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏")
        if drafting and not self._tty:
            self._say("Drafting…")
        while True:
            if cards := self._sender.cards.get(run_id):
                self._clear_spinner()
                return cards.pop(0)
            if await self._sink.run_status(run_id) in ENDED:
                self._clear_spinner()
                return None
            if self._tty and drafting:
                self._out.write(f"\r{next(spinner)} drafting…")
                self._out.flush()
            self._sender.arrived.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sender.arrived.wait(), timeout=0.1)

    async def _review(self, wait: WaitInfo) -> ReviewAction:
        """Show the card and take one decision; returns the action taken."""
        card = cast(Card, wait.payload)
        self._say(
            f"\n── Draft {card.get('attempt', '?')} of {card.get('max_attempts', '?')}"
            f" · topic: {card.get('topic', '?')} ──\n{card.get('draft', '')}\n"
            f"   model: {card.get('model_label', self._label)}"
        )
        while True:
            line = (await self._ask("approve / reject [reason] / edit / quit: ")).strip()
            verb, _, rest = line.partition(" ")
            verb = verb.lower()
            data: dict[str, str] = {}
            if verb in {"q", "quit", "exit"}:
                raise _Quit
            if verb in {"a", "approve", "y", "yes"}:
                action = ReviewAction.APPROVE
            elif verb in {"r", "reject", "n", "no"}:
                action, data = ReviewAction.REJECT, {"reason": rest.strip()}
            elif verb in {"e", "edit"}:
                text = rest.strip() or (await self._ask("Your version: ")).strip()
                action, data = ReviewAction.EDIT, {"text": text}
            else:
                self._say(HELP)
                continue
            request = DecisionRequest(wait.token, action, self._actor, uuid.uuid4().hex, data)
            result = await self._sink.decide(request)
            if result.status == DecideStatus.INVALID:
                self._say(result.message)
                continue
            if result.status != DecideStatus.APPLIED:
                self._say(result.message)
            return action

    async def _ask(self, prompt: str) -> str:
        self._out.write(prompt)
        self._out.flush()
        line = await self._reader.readline()
        if line is None:
            self._out.write("\n")
            raise _Quit
        if not self._tty:
            self._out.write(printable(line) + "\n")  # echo piped input: transcripts read well
        return line

    async def _goodbye(self) -> None:
        pending = await self._sink.pending_reviews(PLATFORM, SCOPE)
        if pending:
            self._say(f"Bye! {len(pending)} draft(s) kept; run `jokebot chat` again to continue.")
        else:
            self._say("Bye!")

    def _clear_spinner(self) -> None:
        if self._tty:
            self._out.write("\r" + " " * 20 + "\r")
            self._out.flush()

    def _say(self, text: str) -> None:
        self._out.write(printable(text) + "\n")  # user text never reaches the TTY as control
        self._out.flush()
