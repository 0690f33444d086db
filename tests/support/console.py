"""A running web console for tests: the real app on uvicorn (port 0) over a real core.

The core is ``joke_stack`` (SQLite file, runtime, joke flow, service; FakeLLM, FakeClock); a
FakePlatform plays Discord, where requests come from and cards go. The console is built and
served by the production wiring (``bot.app._console``). ``Browser`` is an aiohttp session with
its own cookie jar: one person's browser, signed in or not.
"""

import re
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from adapters.console import ConsoleConfig, Identity, Rights
from adapters.console._signin_config import SignInConfig
from bot.app import Core
from bot.app._console import Console, open_console, serving_console
from bot.joke import JokeOptions
from bot.models import Actor, JokeRequest, Origin, RequestStatus
from tests.support.clock import FakeClock
from tests.support.llm import FakeLLM
from tests.support.platform import FakePlatform
from tests.support.stack import Stack, joke_stack

SECRET = "test-console-secret-" + "x" * 32  # a fake secret for a test server
REQUESTER = Actor("discord", "u1", "ann")
MOD = Actor("discord", "m1", "dana", is_moderator=True)
ORIGIN = Origin("discord", "guild1", REQUESTER, "mods", "jokes", "general")
JOKES = (
    "Why did the cat sit on the computer? To keep an eye on the mouse.",
    "What do you call a pile of kittens? A meowtain.",
    "Why are cats bad storytellers? They only have one tale.",
    "What is a cat's favourite colour? Purrple.",
    "How do cats end a fight? They hiss and make up.",
    "Why did the dog sit in the shade? It did not want to be a hot dog.",
    "What do you call a dog magician? A labracadabrador.",
    "Why do fish live in salt water? Pepper makes them sneeze.",
)
CSRF = re.compile(r'name="csrf-token" content="([^"]+)"')


@dataclass
class Browser:
    """One browser: its cookies, and the CSRF token of the last page it loaded."""

    http: aiohttp.ClientSession
    base: str
    csrf: str = ""

    async def page(self, path: str) -> tuple[int, str]:
        """GET a page as a browser would; remembers its CSRF token."""
        async with self.http.get(self.base + path, headers={"Accept": "text/html"}) as r:
            text = await r.text()
        if found := CSRF.search(text):
            self.csrf = found.group(1)
        return r.status, text

    async def post(
        self, path: str, data: dict[str, str], *, csrf: str | None = None, json: bool = True
    ) -> tuple[int, Any]:
        """POST a form with this browser's token (or ``csrf``); the status and the answer."""
        form = {"csrf": self.csrf if csrf is None else csrf, **data}
        accept = "application/json" if json else "text/html"
        async with self.http.post(
            self.base + path, data=form, headers={"Accept": accept}, allow_redirects=False
        ) as r:
            body: Any = await r.json() if r.content_type == "application/json" else await r.text()
            return r.status, body

    async def decide(
        self, token: str, action: str, click: str = "click-0001", **data: str
    ) -> tuple[int, Any]:
        """Click a decision button on the queue page."""
        return await self.post(
            f"/reviews/{token}/decide", {"action": action, "click": click, **data}
        )


@dataclass
class ConsoleHarness:
    """The stack, its Discord stand-in, the console and where it listens."""

    stack: Stack
    discord: FakePlatform
    console: Console
    base: str
    clock: FakeClock
    _exits: AsyncExitStack = field(default_factory=AsyncExitStack)

    async def browser(self) -> Browser:
        """A new browser, not signed in."""
        jar = aiohttp.CookieJar(unsafe=True)  # cookies for 127.0.0.1 (an IP address)
        http = await self._exits.enter_async_context(aiohttp.ClientSession(cookie_jar=jar))
        return Browser(http, self.base)

    async def signed_in(self) -> Browser:
        """A browser signed in with a fresh login link (as the local admin)."""
        browser = await self.browser()
        await sign_in(browser, self.console)
        return browser

    async def signed_in_as(self, who: Identity) -> Browser:
        """A browser signed in as ``who`` (a login link issued for that identity)."""
        browser = await self.browser()
        token = self.console.links.issue(who)
        await browser.page(f"/login/{token}")
        await browser.post(f"/login/{token}", {}, json=False)
        await browser.page("/")
        return browser

    async def ask(self, key: str, topic: str = "cats") -> str:
        """Request a joke on "Discord" and let its card reach the review."""
        result = await self.stack.service.request_joke(JokeRequest(key, ORIGIN, topic))
        assert result.status == RequestStatus.ACCEPTED, result.message
        assert result.run_id is not None
        await self.stack.drain()
        return result.run_id

    def token(self, run_id: str) -> str:
        """The token of the latest card of ``run_id``."""
        token = self.discord.latest_token(run_id)
        assert token is not None
        return token


async def sign_in(browser: Browser, console: Console) -> None:
    """Sign ``browser`` in with a fresh login link (as the local admin)."""
    token = console.links.issue()
    await browser.page(f"/login/{token}")
    status, _ = await browser.post(f"/login/{token}", {}, json=False)
    assert status == 303, status
    await browser.page("/")


@asynccontextmanager
async def served_console(
    core: Core, config: ConsoleConfig | None = None
) -> AsyncIterator[tuple[Console, str]]:
    """The console over ``core`` served on a free port: the console and its URL."""
    async with AsyncExitStack() as exits:
        config = config or ConsoleConfig(secret=SECRET)
        console = await exits.enter_async_context(open_console(core, config))
        port = await exits.enter_async_context(serving_console(console, "127.0.0.1", 0))
        yield console, f"http://127.0.0.1:{port}"


@asynccontextmanager
async def console_harness(
    tmp_path: Path,
    *,
    llm: FakeLLM | None = None,
    config: ConsoleConfig | None = None,
    rights: Rights | None = None,
    serve: bool = False,
    signin: SignInConfig | None = None,
) -> AsyncIterator[ConsoleHarness]:
    """A served console over a fresh stack; everything closed afterwards.

    ``serve=False``: the runtime works only when a test drains it; ``serve=True``: its loops
    run in the background (for a real browser, which nobody drains for). ``signin``: the
    platform sign-ins (against the fake providers), mounted by the production wiring.
    """
    clock = FakeClock()
    llm = llm or FakeLLM(*JOKES)
    config = config or ConsoleConfig(secret=SECRET, keepalive_s=15.0)
    async with AsyncExitStack() as exits:
        stack = await exits.enter_async_context(
            # no scope limit: the console's tests ask for many jokes in one server at once
            joke_stack(
                tmp_path,
                llm=llm,
                clock=clock,
                serve=serve,
                options=JokeOptions(cooldown_s=0.0, scope_max_active=0),
            )
        )
        discord = FakePlatform(clock)
        stack.register("discord", discord)
        console = await exits.enter_async_context(
            open_console(stack.core, config, rights=rights, signin=signin)
        )
        port = await exits.enter_async_context(serving_console(console, "127.0.0.1", 0))
        harness = ConsoleHarness(stack, discord, console, f"http://127.0.0.1:{port}", clock)
        exits.push_async_callback(harness._exits.aclose)
        yield harness
