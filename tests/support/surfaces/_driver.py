"""What every driver shares: the core it runs over, the clock, and the restart sequence."""

from abc import ABC, abstractmethod
from contextlib import AsyncExitStack
from typing import ClassVar

from bot.joke import JokeOptions
from tests.support.llm import FakeLLM
from tests.support.stack import Stack
from tests.support.surfaces._base import Capability, Person, Unsupported


class Driver(ABC):
    """A surface over ``stack`` (drain-driven); subclasses bring their adapter up and down."""

    name: ClassVar[str]
    capabilities: ClassVar[frozenset[Capability]]
    people: ClassVar[dict[Person, str]]  # how the platform shows each person it has

    def __init__(self, stack: Stack, llm: FakeLLM) -> None:
        self.stack = stack
        self._llm = llm
        self._adapter = AsyncExitStack()

    @property
    def llm(self) -> FakeLLM:
        return self._llm

    @property
    def options(self) -> JokeOptions:
        return self.stack.options

    def display(self, person: Person) -> str:
        if person not in self.people:
            raise Unsupported(f"{self.name}: there is no {person} here")
        return self.people[person]

    @abstractmethod
    async def _connect(self, adapter: AsyncExitStack) -> None:
        """Build the adapter over the running core, register its sender; close it on exit."""

    async def _settle(self) -> None:
        """Wait until the surface shows what the core delivered (at once, by default)."""
        return None

    async def start(self) -> None:
        """Bring the adapter up over the running core."""
        await self._connect(self._adapter)

    async def stop(self) -> None:
        """Take the adapter down (every object it had in memory is dropped)."""
        await self._adapter.aclose()
        self._adapter = AsyncExitStack()
        self.stack.senders.pop(self.name, None)  # a restarted core must not reuse the old one

    async def drain(self) -> None:
        await self.stack.drain()
        await self._settle()

    async def later(self, seconds: float) -> None:
        self.stack.clock.advance(seconds)
        await self.drain()

    async def restart(self, *, down_for: float = 0.0) -> None:
        await self.stop()
        await self.stack.stop()
        self.stack.clock.advance(down_for)
        await self.stack.start()
        await self.stack.runtime.recover()  # as bot.app.open_core does, before any adapter
        await self.start()
