"""FakeDiscord: aiohttp REST (``/api/v10/...``) and gateway (``/gateway``) on 127.0.0.1."""

import asyncio
import json
import re
from collections.abc import AsyncIterator, Callable, Mapping
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import discord
import pytest
import yarl
from aiohttp import WSMsgType, web

from tests.support.fake_discord._state import Answer, DiscordState
from tests.support.fake_discord._world import APP_ID, BOT_ID, app_info, guild_create, ready, user


@dataclass(frozen=True)
class Call:
    """One REST call as the fake saw it."""

    method: str
    path: str
    query: dict[str, str]
    body: Any
    status: int


@dataclass
class Fault:
    """The next ``times`` matching calls fail; with ``then="drop"`` they are applied first."""

    method: str
    path: re.Pattern[str]
    times: int
    status: int = 500
    body: dict[str, Any] = field(default_factory=dict)
    headers: dict[str, str] = field(default_factory=dict)
    then: str = "respond"  # respond | drop (apply the call, then cut the connection)


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py does not parse "...; charset=utf-8" (§3.7).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord:
    """The fake server; start it with :func:`serve_fake`, point discord.py at it with ``patch``."""

    def __init__(self, *, deadline_s: float = 3.0, nonce_window_s: float = 300.0) -> None:
        self.state = DiscordState(deadline_s=deadline_s, nonce_window_s=nonce_window_s)
        self.calls: list[Call] = []
        self.faults: list[Fault] = []
        self.port = 0
        self._sockets: set[web.WebSocketResponse] = set()
        self._seq = 0
        self._changed = asyncio.Condition()
        self.identified = asyncio.Event()  # set once a client has sent IDENTIFY
        self.app = web.Application()
        self.app.router.add_get("/gateway", self._gateway)
        self.app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)

    # ---- inspection ----------------------------------------------------------------------

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages visible in a channel (ephemerals excluded), oldest first."""
        return self.state.messages.get(channel_id, [])

    def message(self, message_id: int | str) -> dict[str, Any]:
        """A stored message by id (KeyError if absent)."""
        msg = self.state.find(int(message_id))
        if msg is None:
            raise KeyError(message_id)
        return msg

    async def _record(self, call: Call) -> None:
        async with self._changed:
            self.calls.append(call)
            self._changed.notify_all()

    async def wait_for_call(
        self, pred: Callable[[Call], bool], *, since: int = 0, timeout: float = 5.0
    ) -> Call:
        """The first call at index >= ``since`` matching ``pred``, waiting for it if needed."""

        def found() -> Call | None:
            return next((c for c in self.calls[since:] if pred(c)), None)

        async with asyncio.timeout(timeout), self._changed:
            await self._changed.wait_for(lambda: found() is not None)
        call = found()
        assert call is not None
        return call

    async def wait_for_path(
        self, method: str, pattern: str, *, since: int = 0, timeout: float = 5.0
    ) -> Call:
        """The first call at index >= ``since`` with this method and a path matching a regex."""
        rx = re.compile(pattern)
        return await self.wait_for_call(
            lambda c: c.method == method and rx.fullmatch(c.path) is not None,
            since=since,
            timeout=timeout,
        )

    def calls_to(self, method: str, pattern: str, *, since: int = 0) -> list[Call]:
        """Recorded calls with this method whose path fully matches a regex."""
        rx = re.compile(pattern)
        return [c for c in self.calls[since:] if c.method == method and rx.fullmatch(c.path)]

    def ack_latency(self, iid: int) -> float | None:
        """Seconds from dispatch to the first callback of an interaction, if any."""
        pending = self.state.interactions.get(iid)
        if pending is None or pending.callback_at is None:
            return None
        return pending.callback_at - pending.dispatched_at

    # ---- faults --------------------------------------------------------------------------

    def fail(self, method: str, path: str, *, status: int, times: int = 1, **kw: Any) -> None:
        """Fail the next ``times`` calls matching ``method`` and a path regex."""
        self.faults.append(Fault(method, re.compile(path), times, status, **kw))

    def rate_limit(
        self, method: str, path: str, *, retry_after: float = 0.05, times: int = 1
    ) -> None:
        """A 429 the way Discord sends it (``Via`` + ``X-RateLimit-*``), so discord.py retries."""
        headers = {
            "Via": "1.1 google",
            "Retry-After": str(retry_after),
            "X-RateLimit-Limit": "5",
            "X-RateLimit-Remaining": "0",
            "X-RateLimit-Reset-After": str(retry_after),
            "X-RateLimit-Bucket": "fakebucket",
            "X-RateLimit-Scope": "user",
        }
        body = {
            "message": "You are being rate limited.",
            "retry_after": retry_after,
            "global": False,
        }
        self.fail(method, path, status=429, times=times, body=body, headers=headers)

    def _take_fault(self, method: str, path: str) -> Fault | None:
        for fault in self.faults:
            if fault.times > 0 and fault.method == method and fault.path.fullmatch(path):
                fault.times -= 1
                return fault
        return None

    # ---- gateway -------------------------------------------------------------------------

    async def _gateway(self, request: web.Request) -> web.WebSocketResponse:
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                await self._on_op(ws, json.loads(msg.data))
        finally:
            self._sockets.discard(ws)
        return ws

    async def _on_op(self, ws: web.WebSocketResponse, msg: Mapping[str, Any]) -> None:
        op = msg.get("op")
        if op == 1:
            await ws.send_json({"op": 11})
        elif op == 2:
            await self._send(ws, "READY", ready(self.port))
            await self._send(ws, "GUILD_CREATE", guild_create())
            self._sockets.add(ws)
            self.identified.set()
        elif op == 6:
            await self._send(ws, "RESUMED", {})
            self._sockets.add(ws)

    async def _send(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq += 1
        await ws.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    @property
    def clients(self) -> int:
        """How many identified gateway connections are open."""
        return len(self._sockets)

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a gateway event to every identified client."""
        for ws in list(self._sockets):
            await self._send(ws, event, data)

    async def interact(self, payload: Mapping[str, Any], *, age_s: float = 0.0) -> int:
        """Dispatch INTERACTION_CREATE; ``age_s`` backdates it (a delivery that arrived late)."""
        iid = self.state.register(payload, age_s)
        await self.dispatch("INTERACTION_CREATE", payload)
        return iid

    # ---- REST ----------------------------------------------------------------------------

    async def _rest(self, request: web.Request) -> web.StreamResponse:
        path = "/" + request.match_info["tail"]
        query = dict(request.query)
        body = await request.json() if request.can_read_body else None
        fault = self._take_fault(request.method, path)
        if fault is not None and fault.then == "respond":
            await self._record(Call(request.method, path, query, body, fault.status))
            error = fault.body or {"message": "fake failure", "code": 0}
            return _json(error, fault.status, fault.headers)
        status, data = self._route(request.method, path, query, body)
        await self._record(Call(request.method, path, query, body, status))
        if fault is not None and request.transport is not None:
            # "drop": the call was applied, then the connection dies before the answer.
            request.transport.abort()
        return _json(data, status)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        parts = path.strip("/").split("/")
        shape = (method, *("#" if p.isdigit() else p for p in parts))
        st = self.state
        if shape == ("GET", "users", "@me"):
            return 200, user(BOT_ID)
        if shape == ("GET", "oauth2", "applications", "@me"):
            return 200, app_info()
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            extra = {"application_id": str(APP_ID), "version": "1"}
            return 200, [{**c, "id": str(st.new_id()), **extra} for c in body]
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return st.callback(int(parts[1]), parts[2], body)
        if shape[:2] == ("POST", "webhooks") and len(parts) == 3:
            return st.followup(parts[2], body)
        if shape[:2] == ("PATCH", "webhooks") and len(parts) == 5:
            return st.edit_webhook_message(parts[2], parts[4], body)
        if shape == ("POST", "channels", "#", "messages"):
            return st.create(int(parts[1]), body)
        if shape == ("GET", "channels", "#", "messages"):
            return 200, st.history(int(parts[1]), query)
        if shape == ("GET", "channels", "#", "messages", "#"):
            return st.get(int(parts[3]))
        if shape == ("PATCH", "channels", "#", "messages", "#"):
            return st.edit(int(parts[3]), body)
        if shape == ("POST", "users", "@me", "channels"):
            return st.open_dm(int(body["recipient_id"]))
        return 404, {"code": 0, "message": f"404: Not Found ({method} {path})"}

    # ---- wiring --------------------------------------------------------------------------

    def patch(self, monkeypatch: pytest.MonkeyPatch) -> None:
        """Point discord.py's REST base and gateway at this fake (the two attributes, §3.1)."""
        monkeypatch.setattr(discord.http.Route, "BASE", f"http://127.0.0.1:{self.port}/api/v10")
        gateway = yarl.URL(f"ws://127.0.0.1:{self.port}/gateway")
        monkeypatch.setattr(discord.gateway.DiscordWebSocket, "DEFAULT_GATEWAY", gateway)

    async def close(self) -> None:
        """Close every gateway connection."""
        for ws in list(self._sockets):
            await ws.close()


@asynccontextmanager
async def serve_fake(**options: Any) -> AsyncIterator[FakeDiscord]:
    """Run a FakeDiscord on 127.0.0.1 with a free port; closed on exit."""
    fake = FakeDiscord(**options)
    runner = web.AppRunner(fake.app, handle_signals=False, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    fake.port = runner.addresses[0][1]
    try:
        yield fake
    finally:
        await fake.close()
        await runner.cleanup()
