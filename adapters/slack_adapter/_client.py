"""Building and running the Slack app: HTTP mode (aiohttp) or Socket Mode, one HTTP session."""

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager

import aiohttp
from aiohttp import WSMessage, web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._checks import preflight
from adapters.slack_adapter._config import DEFAULT_API_BASE, PLATFORM, SlackConfig
from adapters.slack_adapter._listeners import SlackListeners, drain_listeners
from adapters.slack_adapter._moderators import Moderators
from adapters.slack_adapter._oauth import add_oauth_routes, oauth_flow, workspaces_for
from adapters.slack_adapter._sender import SlackSender
from adapters.slack_adapter._workspaces import WorkspaceAuthorize, Workspaces
from bot.errors import ConfigError
from bot.ports import Clock, ConnectionHook, EventSink, Installations

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"
DRAIN_S = 5.0  # at shutdown, how long work after an ack may still finish (store still open)
HTTP_TIMEOUT_S = 30  # slack_sdk's default; a shared session must carry it itself
MAX_SKEW_S = 300  # Slack's replay window for signed requests


def build_slack(
    config: SlackConfig,
    sink: EventSink,
    *,
    installs: Installations | None = None,
    clock: Clock | None = None,
) -> tuple[AsyncApp, SlackSender]:
    """The Bolt app (listeners registered) and the outbox sender, from plain values.

    In multi-workspace mode (``config.multi_workspace``) ``installs`` and ``clock`` are
    needed: the app then serves the OAuth install flow and every request and every effect
    uses its own workspace's token.
    """
    client = AsyncWebClient(
        token=None if config.multi_workspace else config.bot_token,
        base_url=config.api_base or DEFAULT_API_BASE,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=config.rate_limit_retries),
        ],
    )
    workspaces: Workspaces | None = None
    if config.multi_workspace:
        if installs is None or clock is None:
            raise ConfigError("Slack multi-workspace mode needs the store's installations")
        workspaces = workspaces_for(config, installs, clock)
        app = AsyncApp(
            client=client,
            signing_secret=config.signing_secret,
            name="jokebot",
            oauth_flow=oauth_flow(config, installs, clock, client),
            authorize=WorkspaceAuthorize(workspaces),  # type: ignore[arg-type]  # bolt takes an AsyncAuthorize too (isinstance)
        )
    else:
        app = AsyncApp(client=client, signing_secret=config.signing_secret, name="jokebot")
    moderators = Moderators(
        client, config.moderators, config.moderator_group, ttl_s=config.group_cache_s
    )
    SlackListeners(sink, config, moderators).register(app)
    sender = SlackSender(
        _sender_client(config),
        history_limit=config.history_limit,
        reconcile_pages=config.reconcile_pages,
        clock_skew_s=config.clock_skew_s,
        pool=client,
        workspaces=workspaces,
    )
    return app, sender


def _sender_client(config: SlackConfig) -> AsyncWebClient:
    # The outbox retries only what certainly was not applied: a connection never made. A
    # connection lost mid-request becomes OutcomeUnknown, and the runtime reconciles first.
    return AsyncWebClient(
        token=None if config.multi_workspace else config.bot_token,
        base_url=config.api_base or DEFAULT_API_BASE,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(error_types=[aiohttp.ClientConnectorError]),
            AsyncRateLimitErrorRetryHandler(max_retry_count=config.rate_limit_retries),
        ],
    )


@asynccontextmanager
async def shared_session(client: AsyncWebClient) -> AsyncIterator[aiohttp.ClientSession]:
    """One connection pool for every Web API call and response_url post while running.

    Without it slack_sdk opens a new session (and TCP/TLS connection) per call; Bolt's
    per-request clients and the sender borrow ``client.session`` while it is open.
    """
    session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=HTTP_TIMEOUT_S))
    client.session = session
    try:
        yield session
    finally:
        client.session = None
        await session.close()


@asynccontextmanager
async def serve_http(
    app: AsyncApp, config: SlackConfig, *, host: str, port: int, check: bool = True
) -> AsyncIterator[int]:
    """Serve ``POST /slack/events`` on ``host:port``; yields the bound port."""
    if not config.signing_secret:
        raise ConfigError(
            "Slack HTTP mode: set SLACK_SIGNING_SECRET (Basic Information → App Credentials)"
        )
    async with shared_session(app.client):
        if check and not config.multi_workspace:  # no token to check before an install
            await preflight(app.client, config)
        runner = web.AppRunner(events_app(app, config.signing_secret), access_log=None)
        await runner.setup()
        try:
            await web.TCPSite(runner, host, port).start()
            bound = runner.addresses[0][1]
            log.info("%s: HTTP mode listening on %s:%s%s", PLATFORM, host, bound, EVENTS_PATH)
            yield bound
        finally:
            await runner.cleanup()  # no new requests from here on
            await drain_listeners(app, DRAIN_S)


async def run_http(
    app: AsyncApp,
    config: SlackConfig,
    *,
    host: str,
    port: int,
    on_connection: ConnectionHook | None = None,
) -> None:
    """Run in HTTP mode until cancelled; bad signatures and stale timestamps get 401.

    ``on_connection`` hears True once the listener is bound (Slack can reach it from then on).
    """
    if on_connection is not None:
        on_connection(False, "starting the listener")
    async with serve_http(app, config, host=host, port=port) as bound:
        if on_connection is not None:
            on_connection(True, f"listening on {host}:{bound}{EVENTS_PATH}")
        await asyncio.Event().wait()


def events_app(app: AsyncApp, signing_secret: str) -> web.Application:
    """``POST /slack/events`` into Bolt, with guards Bolt lacks for bodies it cannot parse.

    The signature is checked first, on the raw bytes (401 for anything unsigned, whatever it
    contains); only then is the body decoded: a signed body that is not UTF-8, or that Bolt
    cannot route, is a 400. Nothing a client sends ends as a 500 with a traceback.
    """

    async def handle(request: web.Request) -> web.Response:
        raw = await request.read()
        if not signed(signing_secret, raw, request.headers, time.time()):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            body = raw.decode("utf-8")
        except UnicodeDecodeError:
            log.warning("%s: signed request of %d bytes is not UTF-8", PLATFORM, len(raw))
            return web.json_response({"error": "malformed request"}, status=400)
        try:
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string, headers=dict(request.headers)
            )
            response = await app.async_dispatch(bolt_request)
        except Exception:
            # Bolt raises on some shapes it cannot route (e.g. a view without "type").
            log.warning("%s: unusable request of %d bytes", PLATFORM, len(body), exc_info=True)
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(response)

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, handle)
    if app.oauth_flow is not None:
        add_oauth_routes(web_app, app.oauth_flow)
    return web_app


def signed(secret: str, raw: bytes, headers: Mapping[str, str], now: float) -> bool:
    """Slack's request signature, checked on the exact bytes received.

    ``v0=`` + HMAC-SHA256(secret, ``v0:<timestamp>:<body>``), the timestamp within 5 minutes
    (docs.slack.dev, "Verifying requests from Slack"). slack_sdk's SignatureVerifier decodes
    the body as UTF-8 first and raises on anything else, hence our own check.
    """
    timestamp = headers.get("X-Slack-Request-Timestamp", "")
    signature = headers.get("X-Slack-Signature", "")
    if not timestamp.isdigit() or abs(now - int(timestamp)) > MAX_SKEW_S:
        return False
    base = b"v0:" + timestamp.encode() + b":" + raw
    expected = "v0=" + hmac.new(secret.encode(), base, hashlib.sha256).hexdigest()
    return hmac.compare_digest(expected, signature)


async def run_socket_mode(
    app: AsyncApp,
    config: SlackConfig,
    *,
    check: bool = True,
    watchdog_s: float = 30.0,
    on_connection: ConnectionHook | None = None,
    presence_s: float = 1.0,
) -> None:
    """Run in Socket Mode until cancelled (one process per app: several would split events).

    ``on_connection`` hears True at each socket's ``hello`` and False within ``presence_s``
    of the socket closing (the SDK then reconnects by itself).
    """
    if not config.app_token.startswith("xapp-"):
        raise ConfigError("Slack Socket Mode: set SLACK_APP_TOKEN to an app-level token (xapp-…)")
    if config.multi_workspace:
        raise ConfigError(
            "Slack multi-workspace mode (SLACK_CLIENT_ID) needs HTTP mode: the install flow "
            "has to be reachable from the browser (jokebot slack --http)"
        )
    if on_connection is not None:
        on_connection(False, "connecting")
    async with shared_session(app.client):
        if check:
            await preflight(app.client, config)
        handler = AsyncSocketModeHandler(app, config.app_token, web_client=app.client)
        try:
            async with asyncio.TaskGroup() as tasks:
                if on_connection is not None:
                    presence = SocketPresence(handler, on_connection)
                    handler.client.on_message_listeners.append(presence.on_message)
                    tasks.create_task(presence.watch(presence_s))
                tasks.create_task(handler.start_async())  # type: ignore[no-untyped-call]  # bolt leaves this untyped
                tasks.create_task(_watchdog(handler, watchdog_s))
        finally:
            await handler.client.close()  # type: ignore[no-untyped-call]  # slack_sdk leaves this untyped
            await drain_listeners(app, DRAIN_S)


class SocketPresence:
    """Whether a Socket Mode connection is up: Slack said ``hello`` on the current socket.

    slack_sdk reports no connection events of its own that hold in every path (its close
    listeners run only after a reconnect attempt that may raise), so ``hello`` marks the
    socket up and a cheap poll of ``is_connected()`` notices it going down.
    """

    def __init__(self, handler: AsyncSocketModeHandler, report: ConnectionHook) -> None:
        self._client, self._report = handler.client, report
        self._greeted: object = None  # the session Slack last said hello on
        self._up = False  # run_socket_mode reported "connecting"

    async def on_message(self, message: WSMessage) -> None:
        data = message.data
        if not isinstance(data, str) or '"hello"' not in data:
            return  # an envelope: Bolt parses it; no second parse on the hot path
        try:
            kind = json.loads(data).get("type")
        except (ValueError, AttributeError):
            return
        if kind == "hello":
            self._greeted = self._client.current_session
            await self.check()

    async def check(self) -> None:
        """Report a change of state: up when connected on the socket that said hello."""
        up = (
            self._greeted is not None
            and self._client.current_session is self._greeted
            and await self._client.is_connected()
        )
        if up != self._up:
            self._up = up
            self._report(up, "hello on the socket" if up else "socket closed, reconnecting")

    async def watch(self, interval_s: float) -> None:
        """Check every ``interval_s`` until cancelled."""
        while True:
            await asyncio.sleep(interval_s)
            await self.check()


async def _watchdog(handler: AsyncSocketModeHandler, interval_s: float) -> None:
    # The SDK reconnects by itself; this catches the wedged states it has had
    # (python-slack-sdk#1446, #1110).
    down = 0
    while True:
        await asyncio.sleep(interval_s)
        down = 0 if await handler.client.is_connected() else down + 1
        if down >= 2:
            log.warning(
                "%s: Socket Mode down for %.0f s, reconnecting", PLATFORM, down * interval_s
            )
            await handler.client.connect_to_new_endpoint(force=True)
            down = 0
