"""The Slack adapter in multi-workspace mode over a real core, against FakeSlack's OAuth side.

Two workspaces can install the app: T1 (channels C1MOD, C1PUB) and T2 (C2MOD, C2PUB); each
gets its own bot user and tokens. :meth:`MultiSlack.install` walks the browser's path:
``/slack/install`` → Slack's authorize page → ``/slack/oauth_redirect``, cookies kept.
"""

import json
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp

from adapters.slack_adapter import SlackConfig, SlackSender, build_slack, serve_http
from bot.store.installations import StoreInstallations
from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack, Workspace, signed_headers
from tests.support.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET
from tests.support.llm import FakeLLM
from tests.support.slack_harness import MOD, SECRET
from tests.support.slack_payloads import command_body, new_trigger
from tests.support.stack import Stack, joke_stack

ONE = Workspace("T1", "One", bot_user="U1BOT", bot_id="B1BOT")
TWO = Workspace("T2", "Two", bot_user="U2BOT", bot_id="B2BOT")
CHANNELS = {"T1": {"C1MOD": "mods", "C1PUB": "jokes"}, "T2": {"C2MOD": "mods", "C2PUB": "jokes"}}


def multi_config(fake: FakeSlack, **overrides: Any) -> SlackConfig:
    """Multi-workspace mode against ``fake``: no bot token, the app's client credentials."""
    base = SlackConfig(
        bot_token="",
        mod_channel="",
        public_channel="",
        moderators=(MOD,),
        signing_secret=SECRET,
        api_base=fake.base_url,
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
        authorize_url=fake.authorize_url,
    )
    return SlackConfig(**{**base.__dict__, **overrides})


@dataclass
class MultiSlack:
    """The running adapter, its core, the fake and a browser-like HTTP client."""

    fake: FakeSlack
    stack: Stack
    app: AsyncApp
    sender: SlackSender
    installs: StoreInstallations
    base: str
    browser: aiohttp.ClientSession

    async def install(self, workspace: Workspace) -> tuple[int, str]:
        """An admin of ``workspace`` installs the app; the last page's status and text."""
        self.fake.oauth.installing = workspace.team_id
        async with self.browser.get(f"{self.base}/slack/install") as page:
            html = await page.text()
        links = re.findall(r'href="([^"]+)"', html)
        start = next(u for u in links if "/oauth/v2/authorize" in u).replace("&amp;", "&")
        async with self.browser.get(start) as done:  # authorize → redirect, followed
            return done.status, await done.text()

    async def joke(self, topic: str, team: str, user: str = "UREQ") -> tuple[int, str]:
        """``/joke topic`` typed in workspace ``team``."""
        body = command_body(
            topic,
            user=user,
            team=team,
            trigger=new_trigger(),
            response_url=self.fake.webhook_url(f"cmd-{user}"),
        )
        self.fake.deliver(body)
        headers = signed_headers(SECRET, body)
        url = f"{self.base}/slack/events"
        async with self.browser.post(url, data=body.encode(), headers=headers) as resp:
            return resp.status, await resp.text()

    async def set_up(self, team: str) -> str:
        """A moderator names the workspace's channels: ``/joke setup #mods #jokes``."""
        mod, pub = CHANNELS[team]
        status, text = await self.joke(f"setup <#{mod}|mods> <#{pub}|jokes>", team, user=MOD)
        assert status == 200, text
        return str(json.loads(text)["text"])


@asynccontextmanager
async def multi_slack(
    tmp_path: Path, clock: FakeClock, **overrides: Any
) -> AsyncIterator[MultiSlack]:
    """The whole set-up; the fake knows workspaces ONE and TWO, neither installed yet."""
    async with (
        FakeSlack(channels={}, clock=clock) as fake,
        joke_stack(tmp_path, llm=FakeLLM("A joke."), clock=clock, serve=False) as stack,
    ):
        for workspace in (ONE, TWO):
            fake.add_workspace(workspace, CHANNELS[workspace.team_id])
        installs = StoreInstallations(stack.store)
        config = multi_config(fake, **overrides)
        app, sender = build_slack(config, stack.service, installs=installs, clock=clock)
        stack.register("slack", sender)
        async with serve_http(app, config, host="127.0.0.1", port=0) as port:
            base = f"http://127.0.0.1:{port}"
            # a browser keeps the (Secure) state cookie for a loopback origin as for https
            jar = aiohttp.CookieJar(unsafe=True, treat_as_secure_origin=[base])
            async with aiohttp.ClientSession(cookie_jar=jar) as browser:
                fake.oauth.redirect_urls = (f"{base}/slack/oauth_redirect",)
                yield MultiSlack(fake, stack, app, sender, installs, base, browser)
