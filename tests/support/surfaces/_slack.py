"""The Slack surface: real slack-bolt (``adapters.slack_adapter``, HTTP mode) on FakeSlack."""

import asyncio
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from adapters.slack_adapter._render import DRAFT_BLOCK
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack, Message
from tests.support.llm import FakeLLM
from tests.support.slack_harness import MOD, SlackHttp, settle, slack_http, snapshot
from tests.support.slack_payloads import submission_payload
from tests.support.stack import Stack, joke_stack
from tests.support.surfaces._base import Capability, Card, Click, Person
from tests.support.surfaces._driver import Driver

MOD_CHANNEL, PUBLIC_CHANNEL = "CMOD", "CPUB"
MOD_GROUP = "SMODS"  # a user group of moderators; the second moderator is in it
USERS = {
    Person.REQUESTER: "UREQ",
    Person.MODERATOR: MOD,
    Person.SECOND_MODERATOR: "UMOD2",
    Person.OUTSIDER: "URANDOM",
}


class SlackSurface(Driver):
    """Signed slash commands, clicks and modal submissions over HTTP; state read from the fake."""

    name = "slack"
    capabilities = frozenset(Capability)
    people: ClassVar[dict[Person, str]] = {person: f"<@{user}>" for person, user in USERS.items()}

    def __init__(self, fake: FakeSlack, stack: Stack, llm: FakeLLM, **config: Any) -> None:
        super().__init__(stack, llm)
        self.fake = fake
        self._config = config  # SlackConfig overrides for every adapter this surface starts
        self._slack: SlackHttp | None = None

    @property
    def slack(self) -> SlackHttp:
        """The running adapter (a new one after every restart)."""
        if self._slack is None:
            raise RuntimeError("the Slack adapter is down")
        return self._slack

    async def _connect(self, adapter: AsyncExitStack) -> None:
        overrides = {"moderator_group": MOD_GROUP, **self._config}
        running = slack_http(self.stack.service, self.fake, **overrides)
        self._slack = await adapter.enter_async_context(running)
        self.stack.register("slack", self._slack.sender)

    async def stop(self) -> None:
        await super().stop()
        self._slack = None

    async def ask(self, topic: str, by: Person = Person.REQUESTER) -> str:
        """The answer travels in the ack once the run is saved ("working on it" if slow)."""
        seen = len(self.fake.webhooks)
        status, text, _ = await self.slack.joke(topic, user=USERS[by])
        assert status == 200
        answer = json.loads(text)
        assert answer["response_type"] == "ephemeral", "answers must be private"
        if "Working on it" not in answer["text"]:
            return str(answer["text"])
        await self.fake.wait_until(lambda: bool(self._told(f"cmd-{USERS[by]}", seen)))
        return self._told(f"cmd-{USERS[by]}", seen)

    def cards(self) -> list[Card]:
        return [_card(m) for m in self.fake.messages(MOD_CHANNEL) if _is_card(m)]

    async def approve(self, card: Card, by: Person = Person.MODERATOR) -> str:
        return await self._click(card, "approve", by)

    async def reject(self, card: Card, by: Person = Person.MODERATOR) -> str:
        return await self._click(card, "reject", by)

    async def reject_with_reason(
        self, card: Card, reason: str, by: Person = Person.MODERATOR
    ) -> str:
        return await self._fill_in(card, "reason", reason, by)

    async def edit(self, card: Card, text: str, by: Person = Person.MODERATOR) -> str:
        return await self._fill_in(card, "edit", text, by)

    async def click_together(self, card: Card, clicks: Sequence[Click]) -> list[str]:
        seen = len(self.fake.webhooks)
        answers = await asyncio.gather(
            *(self.slack.click(card.seen, action, user=USERS[by]) for action, by in clicks)
        )
        assert [status for status, _, _ in answers] == [200] * len(clicks)
        await settle()
        return [self._told(f"click-{USERS[by]}", seen) for _, by in clicks]

    def public_posts(self) -> list[str]:
        return [m.text for m in self.fake.messages(PUBLIC_CHANNEL)]

    def notices(self) -> list[str]:
        """What the requester was told later: by DM, or as ephemerals where no DM was possible."""
        requester = USERS[Person.REQUESTER]
        shown = [m.text for m in self.fake.messages(requester)]
        return shown + [e.text for e in self.fake.ephemerals_for(requester)]

    def alerts(self) -> list[str]:
        return [m.text for m in self.fake.messages(MOD_CHANNEL) if not _is_card(m)]

    async def _click(self, card: Card, action: str, by: Person) -> str:
        seen = len(self.fake.webhooks)
        status, _, _ = await self.slack.click(card.seen, action, user=USERS[by])
        assert status == 200
        await settle()
        return self._told(f"click-{USERS[by]}", seen)

    async def _fill_in(self, card: Card, button: str, value: str, by: Person) -> str:
        """Click a button that opens a one-input modal, type ``value`` and submit it."""
        opened = len(self.fake.calls_to("views.open"))
        told = await self._click(card, button, by)
        views = self.fake.calls_to("views.open")
        if len(views) == opened:
            return told  # refused before any form was shown
        view: dict[str, Any] = list(self.fake.views.values())[-1]  # as opened: id and hash
        [field] = [b for b in view["blocks"] if b["type"] == "input"]
        values = {field["block_id"]: {field["element"]["action_id"]: value}}
        seen = len(self.fake.webhooks)
        status, body = await self.slack.submit(
            submission_payload(view, user=USERS[by], values=values)
        )
        assert status == 200
        await settle()
        errors: Mapping[str, str] = body.get("errors", {})  # shown inside the modal
        return "\n".join([*errors.values(), self._told(f"click-{USERS[by]}", seen)]).strip()

    def _told(self, hook: str, since: int) -> str:
        """What reached one response_url since ``since``: ephemeral answers to one user."""
        bodies = [body for name, body in self.fake.webhooks[since:] if name == hook]
        assert all(b["response_type"] == "ephemeral" for b in bodies), "answers must be private"
        return "\n".join(str(b["text"]) for b in bodies)


def _is_card(message: Message) -> bool:
    return any(b.get("block_id") == DRAFT_BLOCK for b in message.blocks)


def _card(message: Message) -> Card:
    blocks = message.blocks
    [draft] = [
        b["text"]["text"]
        for b in blocks
        if b["type"] == "section" and b["text"]["type"] == "plain_text"
    ]
    live = any(b["type"] == "actions" for b in blocks)
    status = "" if live else str(blocks[-1]["elements"][0]["text"])
    return Card(draft=str(draft), live=live, status=status, seen=snapshot(message))


@asynccontextmanager
async def open_slack(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLLM, **config: Any
) -> AsyncIterator[SlackSurface]:
    """A fake Slack workspace, the real Bolt app over HTTP, the real core; all closed on exit.

    Slack and the bot share one clock: message ts and effect times must agree (reconcile reads
    history from an effect's creation), and a trigger_id or response_url expires on it.
    """
    clock = FakeClock()
    group = {MOD_GROUP: [USERS[Person.SECOND_MODERATOR]]}
    async with (
        FakeSlack(usergroups=group, clock=clock) as fake,
        joke_stack(tmp_path, llm=llm, clock=clock, serve=False) as stack,
    ):
        surface = SlackSurface(fake, stack, llm, **config)
        await surface.start()
        try:
            yield surface
        finally:
            await surface.stop()
