"""The Discord surface: the real discord.py client (``adapters.discord_adapter``) on FakeDiscord."""

import asyncio
import copy
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import Any, ClassVar

import pytest

from tests.support.fake_discord import (
    ADMIN,
    ALICE,
    APP_ID,
    MOD,
    MOD2,
    MOD_CHANNEL,
    PUBLIC_CHANNEL,
    RANDO,
    Call,
    FakeDiscord,
    button_ids,
    click,
    connected,
    jokeconfig,
    modal_submit,
    serve_fake,
    slash,
)
from tests.support.llm import FakeLLM
from tests.support.stack import Stack, joke_stack
from tests.support.surfaces._base import Capability, Card, Click, Person
from tests.support.surfaces._driver import Driver

USERS = {Person.REQUESTER: ALICE, Person.MODERATOR: MOD, Person.SECOND_MODERATOR: MOD2}
USERS[Person.OUTSIDER] = RANDO
CARD_TITLE = "Joke draft for review"
MESSAGE, UPDATE_CARD, MODAL = 4, 7, 9  # interaction callback types
EPHEMERAL = 64  # message flag


class DiscordSurface(Driver):
    """Slash commands and button clicks dispatched over the fake gateway; state read from it."""

    name = "discord"
    capabilities = frozenset(Capability)
    people: ClassVar[dict[Person, str]] = {
        Person.REQUESTER: "Alice",
        Person.MODERATOR: "Mo",
        Person.SECOND_MODERATOR: "Moe",
        Person.OUTSIDER: "Rando",
    }

    def __init__(self, fake: FakeDiscord, stack: Stack, llm: FakeLLM) -> None:
        super().__init__(stack, llm)
        self.fake = fake

    async def _connect(self, adapter: AsyncExitStack) -> None:
        _, sender = await adapter.enter_async_context(connected(self.stack.service))
        self.stack.register("discord", sender)

    async def set_up_guild(self) -> None:
        """``/jokeconfig`` by the server admin: the moderator channel, public channel and role."""
        since = len(self.fake.calls)
        await self.fake.interact(jokeconfig(user=ADMIN))
        await self.fake.wait_for_path("POST", rf"/webhooks/{APP_ID}/[^/]+", since=since)

    async def ask(self, topic: str, by: Person = Person.REQUESTER) -> str:
        since = len(self.fake.calls)
        await self.fake.interact(slash("joke", {"topic": topic}, user=USERS[by]))
        followup = await self.fake.wait_for_path("POST", rf"/webhooks/{APP_ID}/[^/]+", since=since)
        return str(followup.body["content"])

    def cards(self) -> list[Card]:
        return [
            Card(
                draft=str(m["embeds"][0]["description"]),
                live=bool(button_ids(m)),
                status=str(m["content"]),
                seen=copy.deepcopy(m),  # what a client that does not refresh keeps showing
            )
            for m in self.fake.messages(MOD_CHANNEL)
            if m["embeds"] and m["embeds"][0].get("title") == CARD_TITLE
        ]

    async def approve(self, card: Card, by: Person = Person.MODERATOR) -> str:
        return _told(await self._press(card, "approve", by))

    async def reject(self, card: Card, by: Person = Person.MODERATOR) -> str:
        return _told(await self._press(card, "reject", by))

    async def reject_with_reason(
        self, card: Card, reason: str, by: Person = Person.MODERATOR
    ) -> str:
        return await self._fill_in(card, "reason", reason, by)

    async def edit(self, card: Card, text: str, by: Person = Person.MODERATOR) -> str:
        return await self._fill_in(card, "edit", text, by)

    async def click_together(self, card: Card, clicks: Sequence[Click]) -> list[str]:
        payloads = [
            click(_button(card, action), card.seen, user=USERS[by]) for action, by in clicks
        ]
        iids = await asyncio.gather(*(self.fake.interact(p) for p in payloads))
        return [_told(await self._answer(iid)) for iid in iids]

    def public_posts(self) -> list[str]:
        return [str(m["embeds"][0]["description"]) for m in self.fake.messages(PUBLIC_CHANNEL)]

    def notices(self) -> list[str]:
        dm = self.fake.state.dm_channels.get(ALICE)
        messages = self.fake.messages(dm) if dm is not None else []
        return [str(m["embeds"][0]["description"]) for m in messages]

    def alerts(self) -> list[str]:
        return [
            str(m["embeds"][0]["description"])
            for m in self.fake.messages(MOD_CHANNEL)
            if m["embeds"] and "⚠️" in (m["embeds"][0].get("title") or "")
        ]

    async def _press(self, card: Card, action: str, by: Person) -> Call:
        iid = await self.fake.interact(click(_button(card, action), card.seen, user=USERS[by]))
        return await self._answer(iid)

    async def _fill_in(self, card: Card, button: str, value: str, by: Person) -> str:
        """Press a button that opens a one-field modal, type ``value`` and submit it."""
        opened = await self._press(card, button, by)
        if opened.body["type"] != MODAL:
            return _told(opened)  # refused before any form was shown
        modal = opened.body["data"]
        [label] = modal["components"]
        values = {str(label["component"]["custom_id"]): value}
        submit = modal_submit(str(modal["custom_id"]), values, card.seen, user=USERS[by])
        return _told(await self._answer(await self.fake.interact(submit)))

    async def _answer(self, iid: int) -> Call:
        return await self.fake.wait_for_path("POST", rf"/interactions/{iid}/[^/]+/callback")


def _button(card: Card, action: str) -> str:
    [custom_id] = [i for i in button_ids(card.seen) if i.endswith(f":{action}")]
    return custom_id


def _told(answer: Call) -> str:
    """The clicker's answer: an ephemeral message's text, or "" when the card was updated."""
    body: Mapping[str, Any] = answer.body
    if body["type"] == UPDATE_CARD:
        return ""
    assert body["type"] == MESSAGE, f"unexpected interaction answer {body}"
    assert body["data"]["flags"] == EPHEMERAL, "an answer to one clicker must be private"
    return str(body["data"]["content"])


@asynccontextmanager
async def open_discord(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, llm: FakeLLM
) -> AsyncIterator[DiscordSurface]:
    """A configured guild on a fake Discord, the real client, the real core; all closed on exit."""
    async with serve_fake() as fake, joke_stack(tmp_path, llm=llm, serve=False) as stack:
        fake.patch(monkeypatch)
        surface = DiscordSurface(fake, stack, llm)
        await surface.start()
        try:
            await surface.set_up_guild()
            yield surface
        finally:
            await surface.stop()
