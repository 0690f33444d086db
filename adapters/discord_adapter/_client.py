"""JokeClient, the discord.py client with jokebot's commands and card buttons, and running it."""

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import discord
from discord import app_commands

from adapters.discord_adapter._buttons import ITEM_CLASSES
from adapters.discord_adapter._commands import (
    joke_command,
    jokeconfig_command,
    on_tree_error,
    sync_commands,
)
from adapters.discord_adapter._config import PLATFORM, client_options, invite_url
from adapters.discord_adapter._link import jokelink_command
from adapters.discord_adapter._listeners import on_interaction
from adapters.discord_adapter._sender import DiscordSender
from bot.errors import BadRequest, LeaseLost
from bot.models import (
    DecideResult,
    DecideStatus,
    DecisionRequest,
    JokeRequest,
    LinkCode,
    RequestResult,
    RequestStatus,
    ScopeConfig,
    Surface,
    WaitInfo,
)
from bot.ports import ConnectionHook, EventSink

log = logging.getLogger(__name__)


class JokeClient(discord.Client):
    """The Discord side of jokebot; ``sink`` is the EventSink every event goes to.

    ``on_connection`` hears the gateway session's state: connected at READY (guilds cached)
    and RESUMED, not connected at every disconnect (discord.py then reconnects by itself).
    """

    def __init__(
        self, sink: EventSink, *, on_connection: ConnectionHook | None = None, **options: Any
    ) -> None:
        super().__init__(**client_options(**options))
        self.sink = sink
        self._on_connection = on_connection
        self.tree = app_commands.CommandTree(self)
        self.tree.add_command(joke_command(sink))
        self.tree.add_command(jokeconfig_command(sink))
        self.tree.add_command(jokelink_command(sink))
        self.tree.on_error = on_tree_error  # type: ignore[method-assign]  # documented override
        self._guard_interaction_parser()

    def _guard_interaction_parser(self) -> None:
        # A KeyError in a gateway parser ends Client.start(): one malformed
        # INTERACTION_CREATE must be logged, not take the bot down.
        parsers: dict[str, Callable[[Any], None]] = self._connection.parsers
        original = parsers["INTERACTION_CREATE"]

        def guarded(data: Any) -> None:
            try:
                original(data)
            except Exception:
                ids = (data.get("id"), data.get("type")) if isinstance(data, dict) else (None, None)
                log.exception("%s: malformed INTERACTION_CREATE (id=%s type=%s)", PLATFORM, *ids)

        parsers["INTERACTION_CREATE"] = guarded

    async def setup_hook(self) -> None:
        # Every start: cards posted before a restart route by custom_id template alone.
        self.add_dynamic_items(*ITEM_CLASSES)

    async def on_interaction(self, interaction: discord.Interaction) -> None:
        """Modal submits for cards, and an answer for jk: clicks nobody else will handle."""
        await on_interaction(interaction)

    async def on_ready(self) -> None:
        """The gateway session is up and the guilds are cached."""
        self._report(True, "gateway READY")

    async def on_resumed(self) -> None:
        """A dropped gateway session was resumed."""
        self._report(True, "gateway RESUMED")

    async def on_disconnect(self) -> None:
        """The gateway connection closed or could not be opened; discord.py tries again."""
        self._report(False, "gateway disconnected, reconnecting")

    def _report(self, connected: bool, detail: str) -> None:
        if self._on_connection is not None:
            self._on_connection(connected, detail)


class ShardedJokeClient(JokeClient, discord.AutoShardedClient):
    """A JokeClient for some shards of N (``AutoShardedClient(shard_ids=…, shard_count=N)``).

    ``fence`` is asked before every gateway connection, IDENTIFY or RESUME alike: once it
    says no (the shard leases ran out) the client connects nothing more and stops with
    :class:`bot.errors.LeaseLost`. It is also asked before every gateway event is handled,
    so a process back from a pause drops what was queued for shards it no longer holds.
    ``identify_spacing_s`` is the pause before each IDENTIFY after the first (discord.py's
    default 5 s: one IDENTIFY per 5 s at max_concurrency 1).
    """

    def __init__(
        self,
        sink: EventSink,
        *,
        shard_ids: list[int],
        shard_count: int,
        fence: Callable[[], bool],
        identify_spacing_s: float = 5.0,
        **options: Any,
    ) -> None:
        if not shard_ids:  # discord.py would take an empty list for "every shard"
            raise ValueError("a sharded client needs at least one shard id")
        super().__init__(sink, shard_ids=sorted(shard_ids), shard_count=shard_count, **options)
        self._fence, self._spacing_s = fence, identify_spacing_s
        self._fence_gateway()
        self._fence_events()

    def _fence_gateway(self) -> None:
        # Every gateway connection (launch, reconnect, resume) goes through ws_connect.
        connect = self.http.ws_connect

        async def fenced(url: str, *, compress: int = 0) -> Any:
            if not self._fence():
                raise LeaseLost(f"shards {self.shard_ids}: lease gone, not connecting")
            return await connect(url, compress=compress)

        self.http.ws_connect = fenced  # type: ignore[method-assign]  # one instance's hook

    def _fence_events(self) -> None:
        parsers: dict[str, Callable[[Any], None]] = self._connection.parsers
        for name, parse in list(parsers.items()):
            parsers[name] = self._fenced(name, parse)

    def _fenced(self, name: str, parse: Callable[[Any], None]) -> Callable[[Any], None]:
        def fenced(data: Any) -> None:
            if self._fence():
                parse(data)
            else:
                log.warning("%s shards %s: lease gone, %s dropped", PLATFORM, self.shard_ids, name)

        return fenced

    async def before_identify_hook(self, shard_id: int | None, *, initial: bool = False) -> None:
        if not initial:
            await asyncio.sleep(self._spacing_s)


def build_discord(
    sink: EventSink, *, on_connection: ConnectionHook | None = None, **client_options: Any
) -> tuple[JokeClient, DiscordSender]:
    """A JokeClient (default intents, no mentions) and the sender that posts through it.

    With ``shard_ids``, ``shard_count`` and ``fence`` it is a :class:`ShardedJokeClient`.
    """
    if "shard_ids" in client_options:
        client: JokeClient = ShardedJokeClient(sink, on_connection=on_connection, **client_options)
    else:
        client = JokeClient(sink, on_connection=on_connection, **client_options)
    return client, DiscordSender(client)


async def run_discord(token: str, sink: EventSink, *, client: JokeClient | None = None) -> None:
    """Log in and serve until cancelled; closes the client on the way out."""
    client = client or JokeClient(sink)
    client._report(False, "connecting to the gateway")
    async with client:
        await client.start(token)


@dataclass(frozen=True)
class SyncReport:
    """What ``--sync`` did, for the CLI to print."""

    commands: list[str]
    application_id: int
    invite_url: str


class _NoSink:
    """The sink of a client that only syncs commands and never serves events."""

    async def request_joke(self, request: JokeRequest) -> RequestResult:
        return RequestResult(RequestStatus.FAILED, "not serving")

    async def decide(self, request: DecisionRequest) -> DecideResult:
        return DecideResult(DecideStatus.NOT_FOUND, "not serving")

    async def wait_info(self, token: str) -> WaitInfo | None:
        return None

    async def save_scope(self, config: ScopeConfig) -> None:
        raise RuntimeError("not serving")

    async def scope(self, platform: str, scope: str) -> ScopeConfig | None:
        return None

    async def link_code(self, platform: str, scope: str) -> LinkCode:
        raise BadRequest("linking is not available here")

    async def link(self, code: str, surface: Surface) -> str:
        raise BadRequest("linking is not available here")


async def sync_only(token: str, guild_id: int | None) -> SyncReport:
    """Log in over REST only, sync the commands, return what the CLI should print."""
    async with JokeClient(_NoSink()) as client:
        await client.login(token)
        names = await sync_commands(client, guild_id)
        app_id = client.application_id or 0
    return SyncReport(names, app_id, invite_url(app_id))
