"""A local fake Slack: Web API, Socket Mode websocket and response_url webhooks (slack.md §2)."""

import asyncio
import hashlib
import hmac
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl

from aiohttp import WSMsgType, web

BOT_TOKEN = "xoxb-test"  # noqa: S105  # a fake token for the fake server
APP_TOKEN = "xapp-test"  # noqa: S105  # a fake token for the fake server
TEAM = "T0TEAM"
BOT_USER = "U0BOT"
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
class Message:
    """A message the fake keeps per channel (what ``chat.update`` edits)."""

    channel: str
    ts: str
    text: str
    blocks: list[dict[str, Any]]
    metadata: dict[str, Any] | None


@dataclass
class Fault:
    """The next ``times`` calls of a method fail this way."""

    times: int
    status: int = 429
    error: str = "ratelimited"
    retry_after: int | None = 1
    apply_then_drop: bool = False


@dataclass
class Channel:
    """A channel the fake knows: name, whether the bot is in it, its messages."""

    name: str
    is_member: bool = True
    messages: list[Message] = field(default_factory=list)


class FakeSlack:
    """An aiohttp server on 127.0.0.1:0 that answers like Slack; use as ``async with``."""

    def __init__(
        self,
        channels: Mapping[str, str] | None = None,
        *,
        usergroups: Mapping[str, list[str]] | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        names = channels if channels is not None else {"CMOD": "mods", "CPUB": "jokes"}
        self.channels = {cid: Channel(name) for cid, name in names.items()}
        self.usergroups = {k: list(v) for k, v in (usergroups or {}).items()}
        self.calls: list[Call] = []
        self.webhooks: list[tuple[str, dict[str, Any]]] = []
        self.acks: dict[str, dict[str, Any]] = {}
        self.faults: dict[str, Fault] = {}
        self.connections_opened = 0  # apps.connections.open calls
        self.links = 0  # websocket connections ever accepted
        self.expired_triggers: set[str] = set()
        self._ts = itertools.count(1)
        self._envelopes = itertools.count(1)
        self._sockets: list[web.WebSocketResponse] = []
        self._changed = asyncio.Condition()
        self._runner: web.AppRunner | None = None
        self._bind = (host, port)  # tests/container/fake_slack.py serves it to containers
        self.port = 0

    async def __aenter__(self) -> "FakeSlack":
        app = web.Application()
        app.router.add_route("*", "/api/{method}", self._api)
        app.router.add_post("/webhook/{hook}", self._webhook)
        app.router.add_get("/link", self._link)
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

    def webhook_url(self, hook: str) -> str:
        """A ``response_url`` that lands in :attr:`webhooks`."""
        return f"http://127.0.0.1:{self.port}/webhook/{hook}"

    # -- inspection --------------------------------------------------------------------

    def calls_to(self, method: str) -> list[Call]:
        """Every recorded call of ``method``, oldest first."""
        return [c for c in self.calls if c.method == method]

    def messages(self, channel: str) -> list[Message]:
        """Messages in a channel (or a DM, keyed by the user id), oldest first."""
        return self.channels[channel].messages if channel in self.channels else []

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
        if fault is not None and fault.times > 0:
            fault.times -= 1
            if not fault.apply_then_drop:
                headers = {"Retry-After": str(fault.retry_after)} if fault.retry_after else {}
                body = {"ok": False, "error": fault.error}
                return web.json_response(body, status=fault.status, headers=headers)
        token = auth.removeprefix("Bearer ")
        result = self._apply(method, params, token)
        await self._record()
        if fault is not None and fault.apply_then_drop and request.transport is not None:
            request.transport.close()  # applied, but the client never hears back
        return web.json_response(result)

    def _apply(self, method: str, params: dict[str, Any], token: str) -> dict[str, Any]:
        if method == "apps.connections.open":
            if not token.startswith("xapp-"):
                return _error("not_allowed_token_type")
            self.connections_opened += 1
            return {
                "ok": True,
                "url": f"ws://127.0.0.1:{self.port}/link?n={self.connections_opened}",
            }
        if token != BOT_TOKEN:
            return _error(
                "invalid_auth" if not token.startswith("xapp-") else "not_allowed_token_type"
            )
        handler = getattr(self, "_" + method.replace(".", "_"), None)
        if handler is None:
            return _error("unknown_method")
        result: dict[str, Any] = handler(params)
        return result

    def _auth_test(self, params: dict[str, Any]) -> dict[str, Any]:
        return {
            "ok": True,
            "url": "https://fake.slack.com/",
            "team": "Fake",
            "user": "jokebot",
            "team_id": TEAM,
            "user_id": BOT_USER,
            "bot_id": "B0BOT",
        }

    def _channel(self, channel_id: str) -> Channel | str:
        if channel_id.startswith("U"):  # chat.postMessage to a user id posts in the DM
            return self.channels.setdefault(channel_id, Channel(f"dm-{channel_id}"))
        channel = self.channels.get(channel_id)
        if channel is None:
            return "channel_not_found"
        return channel if channel.is_member else "not_in_channel"

    def _chat_postMessage(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        channel = self._channel(channel_id)
        if isinstance(channel, str):
            return _error(channel)
        ts = f"{1700000000 + next(self._ts)}.000100"
        message = Message(
            channel_id,
            ts,
            str(params.get("text", "")),
            list(params.get("blocks") or []),
            params.get("metadata"),
        )
        channel.messages.append(message)
        return {"ok": True, "channel": channel_id, "ts": ts, "message": _shown(message, True)}

    def _chat_update(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(params.get("channel", "")))
        if isinstance(channel, str):
            return _error(channel)
        for message in channel.messages:
            if message.ts == params.get("ts"):
                message.text = str(params.get("text", message.text))
                message.blocks = list(params.get("blocks") or [])
                return {
                    "ok": True,
                    "channel": message.channel,
                    "ts": message.ts,
                    "text": message.text,
                }
        return _error("message_not_found")

    def _chat_postEphemeral(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(params.get("channel", "")))
        if isinstance(channel, str):
            return _error(channel)
        return {"ok": True, "message_ts": f"{1700000000 + next(self._ts)}.000200"}

    def _views_open(self, params: dict[str, Any]) -> dict[str, Any]:
        trigger = str(params.get("trigger_id", ""))
        if not trigger:
            return _error("invalid_trigger_id")
        if trigger in self.expired_triggers:
            return _error("expired_trigger_id")
        view = dict(params.get("view") or {})
        return {"ok": True, "view": {**view, "id": f"V{next(self._ts)}", "hash": "h1"}}

    def _conversations_history(self, params: dict[str, Any]) -> dict[str, Any]:
        channel = self._channel(str(params.get("channel", "")))
        if isinstance(channel, str):
            return _error(channel)
        limit = int(params.get("limit") or 100)
        with_metadata = str(params.get("include_all_metadata", "")).lower() in ("1", "true")
        newest_first = list(reversed(channel.messages))[:limit]
        return {
            "ok": True,
            "messages": [_shown(m, with_metadata) for m in newest_first],
            "has_more": len(channel.messages) > limit,
        }

    def _conversations_info(self, params: dict[str, Any]) -> dict[str, Any]:
        channel_id = str(params.get("channel", ""))
        channel = self.channels.get(channel_id)
        if channel is None:
            return _error("channel_not_found")
        about = {"id": channel_id, "name": channel.name, "is_member": channel.is_member}
        return {"ok": True, "channel": about}

    def _usergroups_users_list(self, params: dict[str, Any]) -> dict[str, Any]:
        group = self.usergroups.get(str(params.get("usergroup", "")))
        return {"ok": True, "users": group} if group is not None else _error("no_such_subteam")

    # -- response_url ------------------------------------------------------------------

    async def _webhook(self, request: web.Request) -> web.Response:
        self.webhooks.append((request.match_info["hook"], await request.json()))
        await self._record()
        return web.Response(text="ok")

    # -- Socket Mode -------------------------------------------------------------------

    async def _link(self, request: web.Request) -> web.WebSocketResponse:
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


async def _params(request: web.Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query)
    if request.content_type == "application/json":
        params.update(await request.json())
    elif request.can_read_body:
        params.update(parse_qsl((await request.read()).decode(), keep_blank_values=True))
    for key in _JSON_PARAMS:
        if isinstance(params.get(key), str):
            params[key] = json.loads(params[key])
    return params


def _shown(message: Message, with_metadata: bool) -> dict[str, Any]:
    shown: dict[str, Any] = {
        "type": "message",
        "user": BOT_USER,
        "bot_id": "B0BOT",
        "ts": message.ts,
        "text": message.text,
        "blocks": message.blocks,
    }
    if with_metadata and message.metadata:
        shown["metadata"] = message.metadata
    return shown


def _error(error: str) -> dict[str, Any]:
    return {"ok": False, "error": error}


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
