"""A real jokebot core for end-to-end tests: SQLite file, runtime, joke flow, service.

Built with the production wiring (``bot.app.open_core``), so adapters are tested against
exactly what ``jokebot discord`` / ``jokebot slack`` run. Only the LLM (a FakeLLM) and the
clock (a FakeClock) are fakes; the screen's classifier is the real one unless a test gives one.
"""

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path

from bot.app import Core, open_core
from bot.joke import JokeOptions
from bot.ports import LLM, Classifier, EffectSender
from bot.runtime import CrashPoints, Runtime
from bot.service import JokeService
from bot.store import Store
from tests.support.clock import FakeClock


@dataclass
class Stack:
    """The running core plus what a test needs to restart it over the same database."""

    db_path: Path
    llm: LLM
    clock: FakeClock
    options: JokeOptions
    serve: bool
    crash: CrashPoints
    classifier: Classifier | None = None  # None: the production one (alt-profanity-check)
    senders: dict[str, EffectSender] = field(default_factory=dict)
    _core: Core | None = None
    _exits: AsyncExitStack = field(default_factory=AsyncExitStack)
    generation: int = 0

    @property
    def core(self) -> Core:
        if self._core is None:
            raise RuntimeError("the stack is not running")
        return self._core

    @property
    def service(self) -> JokeService:
        return self.core.service

    @property
    def runtime(self) -> Runtime:
        return self.core.runtime

    @property
    def store(self) -> Store:
        return self.core.store

    async def start(self) -> None:
        """Open a fresh core (new Runtime, service and store connection) on the database."""
        self.generation += 1
        core = await self._exits.enter_async_context(
            open_core(
                database_url=f"sqlite:///{self.db_path}",
                llm=self.llm,
                classifier=self.classifier,
                clock=self.clock,
                options=self.options,
                runner_id=f"test-runner-{self.generation}",
                crash=self.crash,
            )
        )
        for platform, sender in self.senders.items():  # a restart registers them again
            core.register_sender(platform, sender)
        if self.serve:
            await self._exits.enter_async_context(core.serving())
        self._core = core

    def register(self, platform: str, sender: EffectSender) -> None:
        """Register ``sender`` with the running core, and again after every restart."""
        self.senders[platform] = sender
        if self._core is not None:
            self._core.register_sender(platform, sender)

    async def stop(self) -> None:
        """Drop every in-memory object of the core (as a process exit would)."""
        await self._exits.aclose()
        self._exits = AsyncExitStack()
        self._core = None

    async def restart(self) -> None:
        """Stop and start again over the same database file: a bot restart."""
        await self.stop()
        await self.start()

    async def drain(self) -> None:
        """Do all work that is due now (runs, timers, outbox) until nothing is left."""
        await self.runtime.drain()


@asynccontextmanager
async def joke_stack(
    tmp_path: Path,
    *,
    llm: LLM,
    clock: FakeClock | None = None,
    options: JokeOptions | None = None,
    serve: bool = True,
    crash: CrashPoints | None = None,
    classifier: Classifier | None = None,
) -> AsyncIterator[Stack]:
    """A running core over ``tmp_path/jokebot.db``; ``serve=False`` for drain-driven tests."""
    stack = Stack(
        db_path=tmp_path / "jokebot.db",
        llm=llm,
        clock=clock or FakeClock(),
        options=options or JokeOptions(cooldown_s=0.0),
        serve=serve,
        crash=crash or CrashPoints(),
        classifier=classifier,
    )
    await stack.start()
    try:
        yield stack
    finally:
        await stack.stop()
