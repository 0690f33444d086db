"""A scripted console history for tests and screenshots: approvals, rejections with reasons,
an expiry and a model failure, with the model taking scripted times on the fake clock."""

from collections.abc import Sequence
from typing import Any

from bot.errors import LLMError
from bot.models import Actor
from bot.ports import ChatMessage
from tests.support.clock import FakeClock
from tests.support.console import MOD, ConsoleHarness
from tests.support.llm import FakeLLM

EVE = Actor("discord", "m2", "eve", is_moderator=True)
DRAFT_TIMES = (0.4, 1.2, 2.5, 0.7, 5.5, 3.0)  # seconds each model call takes, in order
REPLIES: tuple[str | LLMError, ...] = (
    "Why did the owl get a job? It gave a hoot about the work.",
    "What do dogs wear in summer? Pants, lots of them.",
    "Why was the dog sitting in the shade all day long? To avoid being a hot dog.",
    "How does a dog stop a video? It presses paws.",
    LLMError("unreachable", "model down"),
    "Why do owls never gossip? Because they only say who.",
)


class TimedLLM(FakeLLM):
    """A FakeLLM that takes scripted seconds on the fake clock per call (failures too)."""

    def __init__(self, times: Sequence[float], *replies: str | LLMError) -> None:
        super().__init__(*replies)
        self.times = list(times)
        self.clock: FakeClock | None = None

    async def complete(self, messages: Sequence[ChatMessage], **kwargs: Any) -> str:
        assert self.clock is not None
        self.clock.advance(self.times.pop(0))
        return await super().complete(messages, **kwargs)


async def scripted_run(web: ConsoleHarness) -> None:
    cats = await web.ask("discord:1", "owls")
    web.clock.advance(20)
    await web.discord.click(web.stack.service.decide, web.token(cats), "approve", MOD)
    await web.stack.drain()
    dogs = await web.ask("discord:2", "dogs")
    for actor, wait, data in ((EVE, 60, "too long"), (MOD, 10, "too long")):
        web.clock.advance(wait)
        await web.discord.click(
            web.stack.service.decide, web.token(dogs), "reject", actor, data={"reason": data}
        )
        await web.stack.drain()
    web.clock.advance(40)
    await web.discord.click(web.stack.service.decide, web.token(dogs), "approve", EVE)
    await web.stack.drain()
    await web.ask("discord:3", "owls at night")  # the model fails: a retry in 60 s
    web.clock.advance(60)
    await web.stack.drain()
    web.clock.advance(86400 + 1)  # nobody decides: the review expires
    await web.stack.drain()
