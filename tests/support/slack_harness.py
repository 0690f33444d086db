"""Drives the real Slack adapter over HTTP (signed requests) against FakeSlack."""

import asyncio
import copy
import json
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from typing import Any

import aiohttp
from slack_bolt.async_app import AsyncApp

from adapters.slack_adapter import EVENTS_PATH, SlackConfig, SlackSender, build_slack, serve_http
from bot.models import (
    Actor,
    DecideResult,
    DecideStatus,
    DecisionRequest,
    JokeRequest,
    RequestResult,
    RequestStatus,
    ScopeConfig,
    StatusReport,
    Surface,
    WaitInfo,
)
from bot.ports import EventSink
from tests.support.fake_slack import APP_TOKEN, BOT_TOKEN, FakeSlack, Message, signed_headers
from tests.support.links import ScriptedLinks
from tests.support.slack_payloads import click_payload, command_body, form, new_trigger

SECRET = "8f742231b10e8888abcd99yyyzzz85a5"  # noqa: S105  # slack.md test vector
MOD = "UMOD"


def slack_config(fake: FakeSlack, **overrides: Any) -> SlackConfig:
    """A config pointing at ``fake``: CMOD / CPUB, moderator UMOD."""
    config = SlackConfig(
        bot_token=BOT_TOKEN,
        mod_channel="CMOD",
        public_channel="CPUB",
        moderators=(MOD,),
        app_token=APP_TOKEN,
        signing_secret=SECRET,
        api_base=fake.base_url,
        rate_limit_retries=2,
    )
    return replace(config, **overrides)


@dataclass
class StubSink(ScriptedLinks):
    """A small EventSink: records requests, answers from a script, never touches a runtime."""

    requests: list[JokeRequest] = field(default_factory=list)
    decisions: list[DecisionRequest] = field(default_factory=list)
    answers: list[DecideResult] = field(default_factory=list)
    infos: dict[str, WaitInfo] = field(default_factory=dict)
    delay_s: float = 0.0
    _keys: dict[str, RequestResult] = field(default_factory=dict)
    codes: list[tuple[str, str]] = field(default_factory=list)  # link codes asked for
    links: list[tuple[str, Surface]] = field(default_factory=list)  # codes used, and where
    asked_status: list[Actor] = field(default_factory=list)  # who asked for /joke status
    report: StatusReport = field(default_factory=lambda: StatusReport((), 0.0, 0.0))
    scopes: dict[tuple[str, str], ScopeConfig] = field(default_factory=dict)  # saved configs

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        await asyncio.sleep(self.delay_s)
        self.requests.append(request)
        if request.request_key not in self._keys:
            self._keys[request.request_key] = RequestResult(
                RequestStatus.ACCEPTED, f"Got it: {request.topic}", request.request_key
            )
        return self._keys[request.request_key]

    @property
    def runs(self) -> int:
        """Distinct request keys seen: what a runtime would have started."""
        return len(self._keys)

    async def decide(self, request: DecisionRequest) -> DecideResult:
        await asyncio.sleep(self.delay_s)
        self.decisions.append(request)
        if not request.actor.is_moderator:
            return DecideResult(DecideStatus.FORBIDDEN, "Only moderators can decide.")
        if self.answers:
            return self.answers.pop(0)
        return DecideResult(DecideStatus.APPLIED, "Done.", request.actor.display)

    async def wait_info(self, token: str) -> WaitInfo | None:
        await asyncio.sleep(self.delay_s)
        return self.infos.get(token)

    async def status(self, requester: Actor) -> StatusReport:
        self.asked_status.append(requester)
        return self.report

    async def save_scope(self, config: ScopeConfig) -> None:
        self.scopes[(config.platform, config.scope)] = config

    async def scope(self, platform: str, scope: str) -> ScopeConfig | None:
        return self.scopes.get((platform, scope))


@dataclass
class SlackHttp:
    """A running adapter in HTTP mode, its fake Slack and a client to post into it."""

    fake: FakeSlack
    app: AsyncApp
    sender: SlackSender
    config: SlackConfig
    url: str
    session: aiohttp.ClientSession

    async def post(
        self,
        body: str,
        *,
        timestamp: int | None = None,
        secret: str = SECRET,
        retry: int | None = None,
    ) -> tuple[int, str, float]:
        """POST a signed body; returns (status, response text, seconds until the response)."""
        self.fake.deliver(body)  # Slack issues the interaction's trigger_id as it sends it
        headers = signed_headers(secret, body, timestamp=timestamp, retry_num=retry)
        start = time.monotonic()
        async with self.session.post(self.url, data=body.encode(), headers=headers) as resp:
            return resp.status, await resp.text(), time.monotonic() - start

    async def joke(
        self,
        topic: str,
        *,
        user: str = "UREQ",
        trigger: str | None = None,
        retry: int | None = None,
        team: str | None = None,
    ) -> tuple[int, str, float]:
        """Type ``/joke <topic>`` (in workspace ``team``, ours by default)."""
        body = command_body(
            topic,
            user=user,
            trigger=trigger or new_trigger(),
            response_url=self.fake.webhook_url(f"cmd-{user}"),
            **({"team": team} if team else {}),
        )
        return await self.post(body, retry=retry)

    async def click(
        self, card: Mapping[str, Any], action: str, *, user: str = MOD, **kwargs: Any
    ) -> tuple[int, str, float]:
        """Click ``action`` on a posted card (a message dict with ``ts`` and ``blocks``)."""
        payload = click_payload(
            card,
            self.config.mod_channel,
            action,
            user=user,
            trigger=kwargs.pop("trigger", None) or new_trigger(),
            response_url=self.fake.webhook_url(f"click-{user}"),
            **kwargs,
        )
        return await self.post(form(payload))

    async def submit(self, payload: Mapping[str, Any]) -> tuple[int, dict[str, Any]]:
        """POST a view_submission; returns (status, JSON body or {})."""
        status, text, _ = await self.post(form(payload))
        return status, json.loads(text) if text else {}


def snapshot(message: Message) -> dict[str, Any]:
    """A message as a client still shows it (shaped like ``body["message"]``), unaffected by
    later edits: what a click on an old card carries."""
    return copy.deepcopy({"ts": message.ts, "text": message.text, "blocks": message.blocks})


def card_message(fake: FakeSlack, index: int = -1, channel: str = "CMOD") -> dict[str, Any]:
    """A snapshot of a card the fake holds."""
    return snapshot(fake.messages(channel)[index])


async def settle(timeout: float = 5.0) -> None:
    """Wait for Bolt's background listener tasks (work after ack) to finish."""
    names = {"run_ack_function_asynchronously", "run_message_listeners", "run_async_bolt_app"}
    pending = [
        t
        for t in asyncio.all_tasks()
        # some tasks wrap awaitables that are not coroutines (no __name__): not Bolt's
        if t is not asyncio.current_task() and getattr(t.get_coro(), "__name__", "") in names
    ]
    if pending:
        await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), timeout)


@asynccontextmanager
async def slack_http(
    sink: EventSink, fake: FakeSlack | None = None, **overrides: Any
) -> AsyncIterator[SlackHttp]:
    """The adapter in HTTP mode on 127.0.0.1:0 against ``fake`` (or a new one)."""
    async with _fake(fake) as slack:
        config = slack_config(slack, **overrides)
        app, sender = build_slack(config, sink)
        async with (
            serve_http(app, config, host="127.0.0.1", port=0) as port,
            aiohttp.ClientSession() as session,
        ):
            url = f"http://127.0.0.1:{port}{EVENTS_PATH}"
            yield SlackHttp(slack, app, sender, config, url, session)
            await settle()


@asynccontextmanager
async def _fake(fake: FakeSlack | None) -> AsyncIterator[FakeSlack]:
    if fake is not None:
        yield fake
        return
    async with FakeSlack() as new:
        yield new
