"""The fake gateway: HELLO, IDENTIFY (intents and shard checked), READY, GUILD_CREATE, RESUME,
outages.

Sharding as Discord documents it (developers/events/gateway#sharding): IDENTIFY carries
``shard: [shard_id, num_shards]`` (absent means ``[0, 1]``); an id outside ``0..num_shards-1``
closes with 4010 (Invalid shard). READY carries the shard and lists only that shard's guilds,
and every guild event goes only to the connection of shard ``(guild_id >> 22) % num_shards``;
events without a guild (DMs) go to shard 0. Every connection is logged with its shard and its
open and close times (:class:`Connection`), so a test can prove no shard ever had two.

With ``zombie_after_s``, a connection that sent no heartbeat for that long is closed (4009,
Session timed out), as Discord drops a client that stopped heartbeating (a frozen process);
``heartbeat_ms`` is the interval HELLO asks for (41250 as Discord's).
"""

import asyncio
import itertools
import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import WSMsgType, web

from tests.support.fake_discord._perms import GuildPermissions
from tests.support.fake_discord._world import (
    GUILD_ID,
    SESSION_ID,
    guild_create,
    ready,
    shard_of,
    small_guild,
)

# Privileged intents (developers/events/gateway#privileged-intents): GUILD_MEMBERS,
# GUILD_PRESENCES, MESSAGE_CONTENT. Asking for one the app has not enabled closes with 4014.
PRIVILEGED_INTENTS = (1 << 1) | (1 << 8) | (1 << 15)
DISALLOWED_INTENTS = 4014
INVALID_SHARD = 4010
SESSION_TIMED_OUT = 4009
# Close code 4000, "Unknown error: we're not sure what went wrong; try reconnecting"
# (developers/topics/opcodes-and-status-codes#gateway-close-event-codes): clients may resume.
UNKNOWN_ERROR = 4000
GUILD_EVENTS = ("GUILD_CREATE", "GUILD_UPDATE", "GUILD_DELETE")  # the guild is ``d.id``
Shard = tuple[int, int]  # (shard_id, num_shards)


@dataclass
class Connection:
    """One gateway connection: its shard (from IDENTIFY or RESUME) and when it was open."""

    number: int
    opened_at: float  # time.monotonic() when the websocket was accepted
    shard: Shard | None = None
    closed_at: float | None = None  # None while open
    beat_at: float = 0.0  # the last heartbeat (time.monotonic()), or when it opened
    close_code: int | None = None  # when the fake closed it

    def overlaps(self, other: "Connection") -> bool:
        """Whether the two were open at the same moment."""
        end, other_end = self.closed_at or float("inf"), other.closed_at or float("inf")
        return self.opened_at < other_end and other.opened_at < end


class Gateway:
    """Gateway connections of the fake; ``dispatch`` routes an event to its shard's connection.

    ``shard_count`` is what ``GET /gateway/bot`` recommends; ``guilds`` the ids of the bot's
    other (empty) guilds, besides the fake guild.
    """

    def __init__(
        self,
        port: Callable[[], int],
        perms: GuildPermissions,
        *,
        enabled_intents: int = 0,
        guild_available: bool = True,
        shard_count: int = 1,
        guilds: tuple[int, ...] = (),
        heartbeat_ms: int = 41250,
        zombie_after_s: float | None = None,
    ) -> None:
        self._port = port
        self.heartbeat_ms, self.zombie_after_s = heartbeat_ms, zombie_after_s
        self._perms = perms
        self.enabled_intents = enabled_intents  # privileged intents switched on in the portal
        self.guild_available = guild_available  # False: never send GUILD_CREATE (uncached guild)
        self.shard_count = shard_count
        self.guilds = (GUILD_ID, *guilds)
        self.sockets: dict[web.WebSocketResponse, Shard] = {}  # identified ones, by shard
        self.identified = asyncio.Event()  # set once a client has sent IDENTIFY
        self.intents: list[int] = []  # the intents of every IDENTIFY, in order
        self.connections: list[Connection] = []  # every connection ever opened, in order
        self.identifies = 0
        self.resumes = 0  # RESUMEs answered with RESUMED
        self.refused = 0  # connection attempts refused while down
        self.down = False
        self._sessions: dict[str, Shard] = {}
        self._numbers = itertools.count(1)
        self._seq = 0

    async def handle(self, request: web.Request) -> web.StreamResponse:
        if self.down:
            # An outage at Discord's edge: the upgrade is refused before any websocket exists.
            self.refused += 1
            return web.Response(status=503, text="upstream connect error")
        ws = web.WebSocketResponse()
        await ws.prepare(request)
        conn = Connection(next(self._numbers), time.monotonic())
        conn.beat_at = conn.opened_at
        self.connections.append(conn)
        await ws.send_json({"op": 10, "d": {"heartbeat_interval": self.heartbeat_ms}})
        watchdog = asyncio.create_task(self._watch(ws, conn)) if self.zombie_after_s else None
        try:
            async for msg in ws:
                if msg.type is not WSMsgType.TEXT:
                    break
                await self._on_op(ws, conn, json.loads(msg.data))
        finally:
            self.sockets.pop(ws, None)
            conn.closed_at = conn.closed_at or time.monotonic()
            if watchdog is not None:
                watchdog.cancel()
        return ws

    async def _watch(self, ws: web.WebSocketResponse, conn: Connection) -> None:
        """Close the connection once its client stopped heartbeating (``zombie_after_s``)."""
        assert self.zombie_after_s is not None
        while not ws.closed:
            await asyncio.sleep(self.zombie_after_s / 5)
            if time.monotonic() - conn.beat_at > self.zombie_after_s:
                # Closed for Discord from here on (no more events), even while the frozen
                # client cannot answer the close handshake.
                conn.close_code, conn.closed_at = SESSION_TIMED_OUT, time.monotonic()
                self.sockets.pop(ws, None)
                await ws.close(code=SESSION_TIMED_OUT, message=b"Session timed out.")

    async def _on_op(
        self, ws: web.WebSocketResponse, conn: Connection, msg: Mapping[str, Any]
    ) -> None:
        op = msg.get("op")
        if op == 1:
            conn.beat_at = time.monotonic()
            await ws.send_json({"op": 11})
        elif op == 2:
            await self._identify(ws, conn, msg.get("d") or {})
        elif op == 6:
            await self._resume(ws, conn, msg.get("d") or {})

    async def _identify(
        self, ws: web.WebSocketResponse, conn: Connection, data: Mapping[str, Any]
    ) -> None:
        intents = int(data.get("intents", 0))
        self.intents.append(intents)
        self.identifies += 1
        if intents & PRIVILEGED_INTENTS & ~self.enabled_intents:
            await ws.close(code=DISALLOWED_INTENTS, message=b"Disallowed intent(s).")
            return
        shard = _shard(data.get("shard", [0, 1]))
        if shard is None:
            await ws.close(code=INVALID_SHARD, message=b"Invalid shard.")
            return
        conn.shard = shard
        session = f"{SESSION_ID}-{conn.number}"
        self._sessions[session] = shard
        mine = [g for g in self.guilds if shard_of(g, shard[1]) == shard[0]]
        await self.send(
            ws, "READY", ready(self._port(), shard=shard, guilds=mine, session_id=session)
        )
        if self.guild_available:
            for guild in mine:
                payload = guild_create(self._perms) if guild == GUILD_ID else small_guild(guild)
                await self.send(ws, "GUILD_CREATE", payload)
        self.sockets[ws] = shard
        self.identified.set()

    async def _resume(
        self, ws: web.WebSocketResponse, conn: Connection, data: Mapping[str, Any]
    ) -> None:
        shard = self._sessions.get(str(data.get("session_id")))
        if shard is None:
            await ws.send_json({"op": 9, "d": False})  # Invalid Session: identify anew
            return
        conn.shard = shard
        self.resumes += 1
        await self.send(ws, "RESUMED", {})
        self.sockets[ws] = shard

    async def send(self, ws: web.WebSocketResponse, event: str, data: Any) -> None:
        self._seq += 1
        await ws.send_json({"op": 0, "t": event, "s": self._seq, "d": data})

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a gateway event to the connections of the shard it belongs to."""
        guild = _guild_of(event, data)
        for ws, (shard_id, count) in list(self.sockets.items()):
            if shard_id == (0 if guild is None else shard_of(guild, count)):
                await self.send(ws, event, data)

    def overlaps(self) -> list[str]:
        """Every pair of connections that were open at once for the same shard."""
        found = []
        for i, a in enumerate(self.connections):
            for b in self.connections[i + 1 :]:
                if a.shard is not None and a.shard == b.shard and a.overlaps(b):
                    found.append(f"shard {a.shard}: connections {a.number} and {b.number}")
        return found

    def bot_gateway(self) -> dict[str, Any]:
        """``GET /gateway/bot``: the URL, the recommended shard count, the session budget."""
        limit = {"total": 1000, "remaining": 1000 - self.identifies, "reset_after": 86_400_000}
        return {
            "url": f"ws://127.0.0.1:{self._port()}/gateway",
            "shards": self.shard_count,
            "session_start_limit": {**limit, "max_concurrency": 1},
        }

    async def close(self, code: int = 1000, message: bytes = b"") -> None:
        """Close every gateway connection."""
        for ws in list(self.sockets):
            await ws.close(code=code, message=message)

    async def go_down(self, code: int = UNKNOWN_ERROR) -> None:
        """An outage: every session closes with ``code`` and new connections are refused."""
        self.down = True
        await self.close(code, b"Unknown error.")

    def come_back(self) -> None:
        """The outage is over: connections (and RESUMEs of the old sessions) succeed again."""
        self.down = False


def _shard(value: Any) -> Shard | None:
    """A valid ``[shard_id, num_shards]`` as a tuple, or None (close with 4010)."""
    if not isinstance(value, list | tuple) or len(value) != 2:
        return None
    shard_id, count = value
    if not isinstance(shard_id, int) or not isinstance(count, int):
        return None
    return (shard_id, count) if 0 <= shard_id < count else None


def _guild_of(event: str, data: Any) -> int | None:
    """The guild an event is about, if any."""
    if not isinstance(data, Mapping):
        return None
    raw = data.get("id") if event in GUILD_EVENTS else data.get("guild_id")
    return int(raw) if isinstance(raw, str | int) and str(raw).isdigit() else None
