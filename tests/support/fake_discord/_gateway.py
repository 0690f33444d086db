"""The fake gateway: HELLO, IDENTIFY (intents checked), READY, GUILD_CREATE, RESUME, outages."""

import asyncio
import json
from collections.abc import Callable, Mapping
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.fake_discord._perms import GuildPermissions
from tests.support.fake_discord._world import SESSION_ID, guild_create, ready

# Privileged intents (developers/events/gateway#privileged-intents): GUILD_MEMBERS,
# GUILD_PRESENCES, MESSAGE_CONTENT. Asking for one the app has not enabled closes with 4014.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
DISALLOWED_INTENTS = 4014
# Close code 4000, "Unknown error: we're not sure what went wrong; try reconnecting"
# (developers/topics/opcodes-and-status-codes#gateway-close-event-codes): clients may resume.
UNKNOWN_ERROR = 4000


class Gateway:
    """Gateway connections of the fake; ``dispatch`` sends an event to every identified one."""

    def __init__(
        self,
        port: Callable[[], int],
        perms: GuildPermissions,
        *,
        enabled_intents: int = 0,
        guild_available: bool = True,
    ) -> None:
        self._port = port
        self._perms = perms
        self.enabled_intents = enabled_intents  # privileged intents switched on in the portal
        self.guild_available = guild_available  # False: never send GUILD_CREATE (uncached guild)
        self.sockets: set[web.WebSocketResponse] = set()
        self.identified = asyncio.Event()  # set once a client has sent IDENTIFY
        self.intents: list[int] = []  # the intents of every IDENTIFY, in order
        self.resumes = 0  # RESUMEs answered with RESUMED
        self.refused = 0  # connection attempts refused while down
        self.down = False
        self._seq = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            # An outage at Discord's edge: the upgrade is refused before any websocket exists.
            self.refused += 1
            return web.Response(status=503, text="upstream connect error")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": 41250}})
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                await self._on_op(ws, json.loads(msg.data))
        finally:
            self.sockets.discard(ws)
        return ws

    async def _on_op(self, ws: web.WebSocketResponse, msg: Mapping[str, Any]) -> None:
        op = msg.get("op")
        if op == 1:
            await ws.send_json({"op": 11})
        elif op == 2:
            await self._identify(ws, msg.get("d") or {})
        elif op == 6:
            await self._resume(ws, msg.get("d") or {})

    async def _resume(self, ws: web.WebSocketResponse, data: Mapping[str, Any]) -> None:
        # An unknown session cannot be resumed: op 9 INVALID_SESSION, d=false (identify anew).
        if data.get("session_id") != SESSION_ID:
            await ws.send_json({"op": 9, "d": False})
            return
        self.resumes += 1
        await self.send(ws, "RESUMED", {})
        self.sockets.add(ws)

    async def _identify(self, ws: web.WebSocketResponse, data: Mapping[str, Any]) -> None:
        intents = int(data.get("intents", 0))
        self.intents.append(intents)
        if intents & PRIVILEGED_INTENTS & ~self.enabled_intents:
            await ws.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        await self.send(ws, "READY", ready(self._port()))
        if self.guild_available:
            await self.send(ws, "GUILD_CREATE", guild_create(self._perms))
        self.sockets.add(ws)
        self.identified.set()

    async def send(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq += 1
        await ws.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a gateway event to every identified client."""
        for ws in list(self.sockets):
            await self.send(ws, event, data)

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        """Close every gateway connection."""
        for ws in list(self.sockets):
            await ws.close(code=code, message=message)

    async def go_down(self, code: int = UNKNOWN_ERROR) -> None:
        """An outage: every session closes with ``code`` and new connections are refused."""
        self.down = True
        await self.close(code, b"Unknown error.")

    def come_back(self) -> None:
        """The outage is over: connections (and RESUMEs of the old session) succeed again."""
        self.down = False
