"""A bot that can be crashed and restarted over one database and one FakePlatform.

Restart = drop every in-memory object (store connection, runtime) and build new ones over the
same database (a SQLite file, or a PostgreSQL URL); the platform, clock and drafter outlive
the bot, as they would in life.
"""

from collections.abc import Awaitable
from dataclasses import dataclass, field
from typing import Any

from bot.models import Actor, DecideResult, Origin
from bot.runtime import CrashPoints, Runtime, SimulatedCrash
from bot.store import Store, open_store
from tests.support import FakeClock, FakePlatform
from tests.support.db import Target, rows, url_of
from tests.support.runtime_flows import Drafter, build_review_flow, initial_state

PLATFORM = "fake"
ALICE = Actor(PLATFORM, "alice", "@alice", is_moderator=True)
BOB = Actor(PLATFORM, "bob", "@bob", is_moderator=True)
MALLORY = Actor(PLATFORM, "mallory", "@mallory", is_moderator=False)
REQUESTER = Actor(PLATFORM, "u1", "@requester")
ORIGIN = Origin(PLATFORM, "scope1", REQUESTER, "mods", "jokes", "requests")


@dataclass
class Harness:
    """One bot incarnation at a time over ``path``; ``restart()`` simulates a crash and a boot.

    ``path`` is a SQLite file, or a database URL (a scratch PostgreSQL schema).
    """

    path: Target
    clock: FakeClock = field(default_factory=FakeClock)
    drafter: Drafter = field(default_factory=Drafter)
    runner_id: str = "bot-1"
    platform: FakePlatform = field(init=False)
    crash: CrashPoints = field(default_factory=CrashPoints)
    store: Store | None = None
    runtime: Runtime | None = None
    crashes: int = 0

    def __post_init__(self) -> None:
        self.platform = FakePlatform(self.clock)

    async def boot(self, *, recover: bool = True) -> Runtime:
        """Open the store and build a runtime (then recover, as a booting bot does)."""
        self.store = await open_store(self.url)
        self.runtime = self.new_runtime(self.store, self.runner_id)
        if recover:
            await self.runtime.recover()
        return self.runtime

    def new_runtime(self, store: Store, runner_id: str) -> Runtime:
        """A runtime over ``store`` with this harness's flow, platform, clock and crash points."""
        return Runtime(
            store,
            {"review": build_review_flow(self.drafter)},
            {PLATFORM: self.platform},
            self.clock,
            runner_id=runner_id,
            crash=self.crash,
        )

    @property
    def url(self) -> str:
        """The database URL."""
        return url_of(self.path)

    @property
    def rt(self) -> Runtime:
        """The current runtime."""
        assert self.runtime is not None, "boot() first"
        return self.runtime

    async def shutdown(self) -> None:
        """Drop the bot: close its connection (uncommitted work is lost, as in a crash)."""
        if self.store is not None:
            await self.store.close()
        self.store = self.runtime = None

    async def restart(self, *, recover: bool = True) -> Runtime:
        """Crash (drop everything in memory) and boot again over the same file."""
        self.crashes += 1
        await self.shutdown()
        return await self.boot(recover=recover)

    async def start(self, n: int = 1, **state: Any) -> str:
        """Start run ``run-<n>`` of the review flow."""
        run_id, _ = await self.rt.start_run("review", f"run-{n}", ORIGIN, initial_state(**state))
        return run_id

    async def click(
        self,
        run_id: str,
        action: str,
        actor: Actor = ALICE,
        *,
        token: str | None = None,
        **data: str,
    ) -> DecideResult | None:
        """Click ``action`` on the newest card of ``run_id`` (or on ``token``)."""
        token = token or self.platform.latest_token(run_id)
        assert token is not None, f"no card for {run_id}"
        return await self.platform.click(self.rt.decide, token, action, actor, data=data)

    async def drain(self) -> None:
        """Drain the current runtime."""
        await self.rt.drain()

    async def crashing(self, action: Awaitable[object]) -> bool:
        """Await ``action``; True if it hit an armed crash point (the bot is then restarted)."""
        try:
            await action
        except SimulatedCrash:
            await self.restart()
            return True
        return False


def query(h: Harness, sql: str, *params: Any) -> list[tuple[Any, ...]]:
    """Rows of ``sql`` read straight from the harness's database (a fresh connection)."""
    return [tuple(r.values()) for r in rows(h.path, sql, *params)]
