"""FakeDiscord: aiohttp REST (``/api/v10/...``) and gateway (``/gateway``) on 127.0.0.1."""

import asyncio
import itertools
import json
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

import discord
import pytest
import yarl
from aiohttp import web

from tests.support.fake_discord._calls import Call, CallLog
from tests.support.fake_discord._faults import FaultInjection
from tests.support.fake_discord._gateway import Gateway
from tests.support.fake_discord._interactions import Interactions, PendingInteraction
from tests.support.fake_discord._perms import MEMBER, ROLE, Overwrite
from tests.support.fake_discord._rules import Answer
from tests.support.fake_discord._state import DiscordState
from tests.support.fake_discord._world import (
    ALICE,
    APP_ID,
    BOT_ID,
    app_info,
    channel,
    member,
    snowflake_at,
    user,
)


def _json(data: Any, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    # Exactly "application/json": discord.py does not parse "...; charset=utf-8" (§3.7).
    return web.Response(
        body=json.dumps(data).encode(),
        status=status,
        headers={"Content-Type": "application/json", **(headers or {})},
    )


class FakeDiscord(CallLog, FaultInjection):
    """The fake server; start it with :func:`serve_fake`, point discord.py at it with ``patch``.

    Options: ``deadline_s`` (initial-response deadline), ``nonce_window_s``,
    ``bot_permissions`` (what the bot's role grants), ``enabled_intents`` (privileged intents
    switched on), ``guild_available`` (False: the guild never arrives in GUILD_CREATE),
    ``shard_count`` (what ``GET /gateway/bot`` recommends), ``guilds`` (the ids of the bot's
    other, empty guilds: see ``guild_on_shard``), ``heartbeat_ms`` and ``zombie_after_s``
    (close a connection that stopped heartbeating).
    """

    def __init__(
        self,
        *,
        deadline_s: float = 3.0,
        nonce_window_s: float = 300.0,
        bot_permissions: int | None = None,
        enabled_intents: int = 0,
        guild_available: bool = True,
        shard_count: int = 1,
        guilds: tuple[int, ...] = (),
        heartbeat_ms: int = 41250,
        zombie_after_s: float | None = None,
    ) -> None:
        self.state = DiscordState(nonce_window_s=nonce_window_s, bot_permissions=bot_permissions)
        self.interactions = Interactions(self.state, deadline_s=deadline_s)
        self.gateway = Gateway(
            lambda: self.port,
            self.state.perms,
            enabled_intents=enabled_intents,
            guild_available=guild_available,
            shard_count=shard_count,
            guilds=guilds,
            heartbeat_ms=heartbeat_ms,
            zombie_after_s=zombie_after_s,
        )
        CallLog.__init__(self)
        FaultInjection.__init__(self)
        self.busy: dict[int, int] = {}  # channel -> messages others post after each bot post
        self.port = 0
        self._ids = itertools.count(1)
        self.app = web.Application()
        self.app.router.add_get("/gateway", self.gateway.handle)
        self.app.router.add_route("*", "/api/v10/{tail:.*}", self._rest)

    # ---- inspection ----------------------------------------------------------------------

    @property
    def identified(self) -> asyncio.Event:
        """Set once a client has sent IDENTIFY."""
        return self.gateway.identified

    @property
    def clients(self) -> int:
        """How many identified gateway connections are open."""
        return len(self.gateway.sockets)

    def shards_connected(self) -> set[int]:
        """The shard ids with an identified (or resumed) gateway connection open now."""
        return {shard_id for shard_id, _ in self.gateway.sockets.values()}

    def messages(self, channel_id: int) -> list[dict[str, Any]]:
        """Messages visible in a channel (ephemerals excluded), oldest first."""
        return self.state.messages.get(channel_id, [])

    def message(self, message_id: int | str) -> dict[str, Any]:
        """A stored message by id (KeyError if absent)."""
        msg = self.state.find(int(message_id))
        if msg is None:
            raise KeyError(message_id)
        return msg

    def interaction(self, iid: int) -> PendingInteraction:
        """A dispatched interaction by id."""
        return self.interactions.by_id[iid]

    def ack_latency(self, iid: int) -> float | None:
        """Seconds from dispatch to the first callback of an interaction, if any."""
        pending = self.interactions.by_id.get(iid)
        if pending is None or pending.callback_at is None:
            return None
        return pending.callback_at - pending.dispatched_at

    # ---- world changes -------------------------------------------------------------------

    async def set_overwrite(
        self, channel_id: int, target: int, *, allow: int = 0, deny: int = 0, member: bool = True
    ) -> None:
        """Change a channel's permission overwrite and tell the clients (CHANNEL_UPDATE)."""
        kind = MEMBER if member else ROLE
        self.state.perms.set_overwrite(channel_id, Overwrite(target, kind, allow, deny))
        await self.gateway.dispatch("CHANNEL_UPDATE", channel(channel_id, self.state.perms))

    def _chatter(self, channel_id: int) -> None:
        # A busy channel: other people keep talking after each of the bot's posts.
        for i in range(self.busy.get(channel_id, 0)):
            self.state.create(channel_id, {"content": f"chatter {i}"}, author=ALICE)

    # ---- gateway -------------------------------------------------------------------------

    async def dispatch(self, event: str, data: Any) -> None:
        """Send a gateway event to every identified client."""
        await self.gateway.dispatch(event, data)

    async def interact(
        self, payload: Mapping[str, Any], *, age_s: float = 0.0, delay_s: float = 0.0
    ) -> int:
        """Dispatch INTERACTION_CREATE; returns the interaction id.

        ``age_s`` re-dates the interaction that many seconds into the past (it reached the bot
        late); ``delay_s`` really waits before sending it (gateway latency).
        """
        if age_s or self.state.clock.offset:
            when = (self.state.clock.now() - age_s) * 1000
            payload = {**payload, "id": str(snowflake_at(when, next(self._ids)))}
        if delay_s:
            await asyncio.sleep(delay_s)
        iid = self.interactions.register(payload)
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
            if fault.text is not None:
                return web.Response(text=fault.text, status=fault.status, content_type="text/html")
            error = fault.body or {"message": "fake failure", "code": 0}
            return _json(error, fault.status, fault.headers)
        status, data = self._route(request.method, path, query, body)
        headers = fault.headers if fault is not None and fault.then == "headers" else None
        if fault is not None and fault.then == "error":
            # "error": applied, yet Discord answers with an error (a 500 after the write).
            status, data = fault.status, fault.body or {"message": "500: Internal Server Error"}
        await self._record(Call(request.method, path, query, body, status))
        if fault is not None and fault.then == "drop" and request.transport is not None:
            # "drop": the call was applied, then the connection dies before the answer.
            request.transport.abort()
        return _json(data, status, headers)

    def _route(self, method: str, path: str, query: dict[str, str], body: Any) -> Answer:
        parts = path.strip("/").split("/")
        shape = (method, *("#" if p.isdigit() else p for p in parts))
        st = self.state
        if shape == ("GET", "users", "@me"):
            return 200, user(BOT_ID)
        if shape == ("GET", "gateway", "bot"):
            return 200, self.gateway.bot_gateway()
        if shape == ("GET", "gateway"):
            return 200, {"url": f"ws://127.0.0.1:{self.port}/gateway"}
        if shape == ("GET", "oauth2", "applications", "@me"):
            return 200, app_info()
        if method == "PUT" and parts[0] == "applications" and parts[-1] == "commands":
            extra = {"application_id": str(APP_ID), "version": "1"}
            return 200, [{**c, "id": str(st.new_id()), **extra} for c in body]
        if method == "POST" and parts[0] == "interactions" and parts[-1] == "callback":
            return self.interactions.callback(int(parts[1]), parts[2], body)
        if shape[:2] == ("POST", "webhooks") and len(parts) == 3:
            return self.interactions.followup(parts[2], body)
        if shape[:2] == ("PATCH", "webhooks") and len(parts) == 5:
            return self.interactions.edit_message(parts[2], parts[4], body)
        if shape == ("POST", "channels", "#", "messages"):
            answer = st.create(int(parts[1]), body)
            if answer[0] == 200:
                self._chatter(int(parts[1]))
            return answer
        if shape == ("GET", "channels", "#", "messages"):
            return st.history(int(parts[1]), query)
        if shape == ("GET", "channels", "#", "messages", "#"):
            return st.get(int(parts[1]), int(parts[3]))
        if shape == ("PATCH", "channels", "#", "messages", "#"):
            return st.edit(int(parts[1]), int(parts[3]), body)
        if shape == ("GET", "guilds", "#", "members", "#"):
            return 200, member(int(parts[3]))  # Get Guild Member
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
        await self.gateway.close()


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
