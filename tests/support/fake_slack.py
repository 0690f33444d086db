"""A local fake Slack: Web API, Socket Mode websocket and response_url webhooks (slack.md §2).

As strict as Slack's documentation: the Web API rules live in ``fake_slack_api`` (methods),
``fake_slack_rules`` (Block Kit, views, metadata, scopes) and ``fake_slack_world`` (channels,
messages, ts, triggers); this module serves them and adds faults, webhooks and Socket Mode.
Its own tests: ``tests/e2e/test_slack_fake.py``.
"""

import asyncio
import contextlib
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

from tests.support.clock import FakeClock
from tests.support.fake_slack_api import Caller, SlackApi, error
from tests.support.fake_slack_oauth import Grant, SlackOAuth, Workspace
from tests.support.fake_slack_rules import manifest_scopes
from tests.support.fake_slack_world import (
    BOT_USER,
    TEAM,
    Channel,
    Clock,
    Ephemeral,
    Message,
    is_user_id,
)

__all__ = [
    "BOT_USER",
    "TEAM",
    "Channel",
    "FakeSlack",
    "Message",
    "Workspace",
    "sign",
    "signed_headers",
]

BOT_TOKEN = "xoxb-test"  # noqa: S105  # a fake token for the fake server
APP_TOKEN = "xapp-test"  # noqa: S105  # a fake token for the fake server
RESPONSE_URL_TTL_S = 30 * 60
RESPONSE_URL_USES = 5
# Parameters slack_sdk sends as JSON strings inside form bodies.
_JSON_PARAMS = ("blocks", "metadata", "view", "attachments")


@dataclass(frozen=True)
class Call:
    """One Web API call as the fake saw it."""

    method: str
    params: dict[str, Any]
    auth: str
    at: float


@dataclass
class Fault:
    """The next ``times`` calls of a method fail this way.

    ``apply_then_drop``: applied, then the connection is closed (the client never hears back).
    ``apply_then_error``: applied, then answered with ``error`` (a lost success, e.g.
    ``internal_error`` after the message was posted).
    """

    times: int
    status: int = 429
    error: str = "ratelimited"
    retry_after: int | None = 1
    apply_then_drop: bool = False
    apply_then_error: bool = False


@dataclass
class Loss:
    """A share of successful calls of a method whose answer is lost (seeded)."""

    rate: float
    error: str = "internal_error"
    channel: str | None = None
    count: int = 0  # answers lost so far


@dataclass
class Hook:
    """A ``response_url``: Slack accepts up to 5 posts to it within 30 minutes."""

    name: str
    issued_at: float
    uses: int = 0


class FakeSlack(SlackApi):
    """An aiohttp server on 127.0.0.1:0 that answers like Slack; use as ``async with``.

    Args:
        channels: ``{id: name}``; ``G…`` ids are private channels.
        usergroups: ``{group id: [user ids]}``.
        clock: the fake's time (message ts, trigger and response_url expiry); a FakeClock
            of its own by default, so nothing expires unless a test moves it.
        scopes: the bot token's scopes; by default what ``manifest.yml`` asks for.
        plan: ``"free"`` makes user groups answer ``plan_upgrade_required``.
        short_pages: history pages of random (seeded) length, as Slack may return them.
        seed: for short pages, chatter and lost answers.
    """

    def __init__(
        self,
        channels: Mapping[str, str] | None = None,
        *,
        usergroups: Mapping[str, list[str]] | None = None,
        clock: Clock | None = None,
        scopes: frozenset[str] | None = None,
        plan: str = "pro",
        short_pages: bool = True,
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        super().__init__(
            dict(channels) if channels is not None else None,
            clock or FakeClock(),
            usergroups={k: list(v) for k, v in (usergroups or {}).items()},
            seed=seed,
            scopes=manifest_scopes() if scopes is None else scopes,
            plan=plan,
            short_pages=short_pages,
        )
        self.calls: list[Call] = []
        self.webhooks: list[tuple[str, dict[str, Any]]] = []
        self.refused_webhooks: list[tuple[str, str]] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.faults: dict[str, Fault] = {}
        self.losses: dict[str, Loss] = {}
        self.hooks: dict[str, Hook] = {}
        self.delays: dict[str, float] = {}  # method -> seconds each call takes (real time)
        self.connections_opened = 0  # apps.connections.open calls
        self.links = 0  # websocket connections ever accepted
        self.socket_down = False  # a Socket Mode outage (go_down / come_back)
        self._envelopes = itertools.count(1)
        self._hook_ids = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._bind = (host, port)  # tests/container/fake_slack.py serves it to containers
        self.port = 0
        self.oauth = SlackOAuth(self.clock)

    async def __aenter__(self) -> "FakeSlack":
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/webhook/{hook}", self._webhook)
        app.router.add_get("/link", self._link)
        app.router.add_get("/oauth/v2/authorize", self._authorize)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, *self._bind).start()
        self.port = self._runner.addresses[0][1]
        return self

    async def __aexit__(self, *exc: object) -> None:
        for ws in list(self._sockets):
            await ws.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def base_url(self) -> str:
        """The ``base_url`` for ``AsyncWebClient`` (ends in ``/api/``)."""
        return f"http://127.0.0.1:{self.port}/api/"

    @property
    def authorize_url(self) -> str:
        """Where an app sends the browser to install it (``authorization_url`` for Bolt)."""
        return f"http://127.0.0.1:{self.port}/oauth/v2/authorize"

    def add_workspace(self, workspace: Workspace, channels: Mapping[str, str]) -> None:
        """Another workspace that may install the app, with its channels (the bot in them)."""
        self.oauth.add_workspace(workspace)
        for cid, name in channels.items():
            self.channels[cid] = Channel(
                name, is_private=cid.startswith("G"), team=workspace.team_id
            )

    def webhook_url(self, hook: str) -> str:
        """A new ``response_url`` (valid 30 min, 5 posts) whose posts land in :attr:`webhooks`."""
        hook_id = f"{hook}-{next(self._hook_ids)}"
        self.hooks[hook_id] = Hook(hook, self.clock.now())
        return f"http://127.0.0.1:{self.port}/webhook/{hook_id}"

    # -- inspection --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of ``method``, oldest first."""
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """Messages in a channel, or in the app's DM with a user id, oldest first."""
        if is_user_id(channel):
            return self.dm_messages(channel)
        return self.channels[channel].messages if channel in self.channels else []

    def ephemerals_for(self, user: str) -> list[Ephemeral]:
        """Ephemeral messages shown to ``user`` (never part of any channel's history)."""
        return [e for e in self.ephemerals if e.user == user]

    async def wait_until(self, check: Callable[[], bool], timeout: float = 3.0) -> None:
        """Wait until ``check()`` holds (re-evaluated on every recorded change)."""
        async with self._changed:
            await asyncio.wait_for(self._changed.wait_for(check), timeout)

    async def wait_for(self, method: str, n: int = 1, timeout: float = 3.0) -> list[Call]:
        """Wait for at least ``n`` calls of ``method`` and return them."""
        await self.wait_until(lambda: len(self.calls_to(method)) >= n, timeout)
        return self.calls_to(method)

    async def wait_webhooks(self, n: int = 1, timeout: float = 3.0) -> list[dict[str, Any]]:
        """Wait for ``n`` posts to response URLs and return their bodies."""
        await self.wait_until(lambda: len(self.webhooks) >= n, timeout)
        return [body for _, body in self.webhooks]

    def fail_next(self, method: str, times: int = 1, **how: Any) -> None:
        """Make the next ``times`` calls of ``method`` fail (default: 429, Retry-After 1)."""
        self.faults[method] = Fault(times, **how)

    def lose_answers(self, method: str, rate: float, **how: Any) -> None:
        """From now on, lose the answer to ``rate`` of the successful calls of ``method``."""
        self.losses[method] = Loss(rate, **how)

    def deliver(self, body: str) -> None:
        """Slack issued the trigger of an interaction it is about to deliver (form body)."""
        fields = dict(parse_qsl(body, keep_blank_values=True))
        if "payload" in fields:
            try:
                fields = json.loads(fields["payload"])
            except ValueError:
                return
        trigger = fields.get("trigger_id") if isinstance(fields, dict) else None
        if isinstance(trigger, str) and trigger:
            self.issue_trigger(trigger)

    async def _record(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- Web API -----------------------------------------------------------------------

    async def _api(self, request: web.Request) -> web.StreamResponse:
        method = request.match_info["method"]
        params = await _params(request)
        auth = request.headers.get("Authorization") or f"Bearer {params.get('token', '')}"
        self.calls.append(Call(method, params, auth, time.monotonic()))
        await self._record()
        fault = self.faults.get(method)
        applying = fault is not None and fault.times > 0
        if fault is not None and applying:
            fault.times -= 1
            if not (fault.apply_then_drop or fault.apply_then_error):
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                body = {"ok": False, "error": fault.error}
                return web.json_response(body, status=fault.status, headers=headers)
        if delay := self.delays.get(method):
            await asyncio.sleep(delay)  # a slow answer, so that racing callers overlap
        result = self._apply(method, params, auth)
        await self._record()
        if fault is not None and applying and fault.apply_then_drop and request.transport:
            request.transport.close()  # applied, but the client never hears back
        if fault is not None and applying and fault.apply_then_error:
            return web.json_response({"ok": False, "error": fault.error}, status=fault.status)
        loss = self.losses.get(method)
        if loss is not None and result.get("ok") and self._lost(loss, params):
            loss.count += 1
            return web.json_response({"ok": False, "error": loss.error})  # applied, answer lost
        return web.json_response(result, headers=self._scope_headers(auth))

    def _scope_headers(self, auth: str) -> dict[str, str]:
        # Slack answers every bot-token call with the token's granted scopes in this header.
        token = auth.removeprefix("Bearer ")
        grant = self.oauth.grants.get(token)
        if token != BOT_TOKEN and grant is None:
            return {}
        scopes = self.scopes if grant is None else grant.scopes
        return {"x-oauth-scopes": ",".join(sorted(scopes))}

    def _lost(self, loss: Loss, params: dict[str, Any]) -> bool:
        if loss.channel is not None and params.get("channel") != loss.channel:
            return False
        return self.rng.random() < loss.rate

    def _apply(self, method: str, params: dict[str, Any], auth: str) -> dict[str, Any]:
        if method == "oauth.v2.access":
            return self.oauth.access(params, auth)  # client credentials, no token
        token = auth.removeprefix("Bearer ")
        if method == "apps.connections.open" and self.socket_down:
            # Slack's documented answer while a service is down (Web API "service_unavailable").
            return error("service_unavailable")
        if method == "apps.connections.open":
            # Socket Mode URLs need an app-level token (xapp-) with connections:write.
            if not token.startswith("xapp-"):
                return error("not_allowed_token_type")
            if token != APP_TOKEN:
                return error("invalid_auth")
            self.connections_opened += 1
            return {
                "ok": True,
                "url": f"ws://127.0.0.1:{self.port}/link?n={self.connections_opened}",
            }
        if token.startswith("xapp-"):
            return error("not_allowed_token_type")  # Web API methods need a bot token
        if token == BOT_TOKEN:
            return self.call(method, params)
        if (refused := self.oauth.token_error(token)) is not None:
            return error(refused)  # invalid_auth, or token_expired for a rotated-out one
        grant = self.oauth.grants[token]
        with self.calling_as(caller_of(grant)):
            return self.call(method, params)

    async def _authorize(self, request: web.Request) -> web.Response:
        # The browser's side of the install: the user approves and is sent back with a code.
        status, where = self.oauth.authorize(request.query_string)
        await self._record()
        if status != 302:
            return web.Response(status=status, text=where)
        raise web.HTTPFound(where)

    # -- response_url ------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        hook = self.hooks.get(request.match_info["hook"])
        body = await request.json()
        # A response_url takes up to 5 posts within 30 minutes of the interaction; after
        # that Slack refuses it with an HTTP error (our body text is a stand-in).
        if hook is None:
            refusal = "no_service"
        elif self.clock.now() - hook.issued_at > RESPONSE_URL_TTL_S:
            refusal = "expired_url"
        elif hook.uses >= RESPONSE_URL_USES:
            refusal = "used_url"
        else:
            hook.uses += 1
            self.webhooks.append((hook.name, body))
            await self._record()
            return web.Response(text="ok")
        self.refused_webhooks.append((request.match_info["hook"], refusal))
        await self._record()
        return web.Response(status=404, text=refusal)

    # -- Socket Mode -------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.StreamResponse:
        if self.socket_down:
            return web.Response(status=503, text="service unavailable")  # no upgrade
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        self._sockets.append(ws)
        self.links += 1
        await self._record()
        await ws.send_json({"type": "hello", "num_connections": len(self._sockets)})
        try:
            async for msg in ws:
                if msg.type is WSMsgType.TEXT:
                    data = json.loads(msg.data)
                    if "envelope_id" in data:
                        self.acks[str(data["envelope_id"])] = data
                        await self._record()
        finally:
            self._sockets.remove(ws)
            await self._record()
        return ws

    @property
    def sockets(self) -> int:
        """How many Socket Mode connections are open."""
        return len(self._sockets)

    async def push_envelope(self, kind: str, payload: Mapping[str, Any], retry: int = 0) -> str:
        """Send an envelope (``slash_commands`` / ``interactive``) on the newest connection."""
        envelope_id = f"env-{next(self._envelopes)}"
        trigger = payload.get("trigger_id")
        if isinstance(trigger, str) and trigger:
            self.issue_trigger(trigger)  # Slack issues the trigger with the interaction
        await self._sockets[-1].send_json(
            {
                "envelope_id": envelope_id,
                "type": kind,
                "payload": dict(payload),
                "accepts_response_payload": kind != "events_api",
                "retry_attempt": retry,
                "retry_reason": "timeout" if retry else "",
            }
        )
        return envelope_id

    async def wait_ack(self, envelope_id: str, timeout: float = 3.0) -> dict[str, Any]:
        """The ack the app sent back for an envelope."""
        await self.wait_until(lambda: envelope_id in self.acks, timeout)
        return self.acks[envelope_id]

    async def disconnect(self, reason: str = "refresh_requested") -> None:
        """Ask the client to reconnect, as Slack does every few hours."""
        await self._sockets[-1].send_json({"type": "disconnect", "reason": reason})

    async def go_down(self) -> None:
        """A Socket Mode outage: open sockets drop (1011, server error), new ones are refused
        and ``apps.connections.open`` answers ``service_unavailable``; the Web API stays up."""
        self.socket_down = True
        for ws in list(self._sockets):
            await ws.close(code=1011, message=b"server error")

    def come_back(self) -> None:
        """The outage is over: ``apps.connections.open`` and new sockets work again."""
        self.socket_down = False


def caller_of(grant: Grant) -> Caller:
    """Who calls with a token issued by the OAuth flow."""
    ws = grant.workspace
    return Caller(ws.team_id, ws.bot_user, ws.bot_id, grant.scopes)


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
        return params
    if request.can_read_body:
        params.update(parse_qsl((await request.read()).decode(), keep_blank_values=True))
    for key in _JSON_PARAMS:  # a form body carries these as JSON strings
        if isinstance(params.get(key), str):
            with contextlib.suppress(ValueError):  # else left a string: validation refuses it
                params[key] = json.loads(params[key])
    return params


# -- signing and payloads -------------------------------------------------------------


def sign(secret: str, timestamp: int, body: str | bytes) -> str:
    """Slack's request signature: ``v0=`` + HMAC-SHA256 of ``v0:<ts>:<body>``."""
    raw = body.encode() if isinstance(body, str) else body
    base = f"v0:{timestamp}:".encode() + raw
    return "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()


def signed_headers(
    secret: str, body: str, *, timestamp: int | None = None, retry_num: int | None = None
) -> dict[str, str]:
    """Headers of a signed form POST; ``retry_num`` marks a redelivery."""
    ts = int(time.time()) if timestamp is None else timestamp
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": str(ts),
        "X-Slack-Signature": sign(secret, ts, body),
    }
    if retry_num is not None:
        headers["X-Slack-Retry-Num"] = str(retry_num)
        headers["X-Slack-Retry-Reason"] = "http_timeout"
    return headers
