"""Starting the Slack app: preflight checks, HTTP mode (aiohttp) and Socket Mode."""

import asyncio
import logging
from typing import Any

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_bolt.async_app import AsyncApp, AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._config import SlackConfig
from bot.errors import ConfigError

log = logging.getLogger(__name__)

EVENTS_PATH = "/slack/events"


async def preflight(client: AsyncWebClient, config: SlackConfig) -> list[str]:
    """Check the token and that the bot can post in both channels.

    Returns warnings (logged, not fatal); raises ConfigError saying exactly what to do.
    Uses read-only calls, so a restart never spams the channels.
    """
    try:
        auth = await client.auth_test()
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        raise ConfigError(
            f"Slack: SLACK_BOT_TOKEN was refused ({error}); copy the Bot User OAuth Token "
            "(xoxb-…) from the app's OAuth & Permissions page"
        ) from None
    bot = str(auth.get("user") or "jokebot")
    problems: list[str] = []
    warnings: list[str] = []
    for setting, channel in (
        ("SLACK_MOD_CHANNEL", config.mod_channel),
        ("SLACK_PUBLIC_CHANNEL", config.public_channel),
    ):
        problem, warning = await _check_channel(client, setting, channel, bot)
        problems += [problem] if problem else []
        warnings += [warning] if warning else []
    if problems:
        raise ConfigError("Slack: " + "; ".join(problems))
    for warning in warnings:
        log.warning("slack: %s", warning)
    return warnings


async def _check_channel(
    client: AsyncWebClient, setting: str, channel: str, bot: str
) -> tuple[str, str]:
    if not channel:
        return f"set {setting} to a channel id (channel details → About → Channel ID)", ""
    invite = f"type `/invite @{bot}` in that channel"
    try:
        info = await client.conversations_info(channel=channel)
    except SlackApiError as exc:
        error = exc.response.get("error", "")
        if error == "channel_not_found":
            return (
                f"{setting}={channel}: channel not found. Use the channel id (C…), not its name; "
                f"for a private channel {invite} first"
            ), ""
        if error == "missing_scope":
            return "", f"cannot check {setting} (add channels:read, groups:read to the app)"
        raise ConfigError(f"Slack: conversations.info {setting}={channel}: {error}") from None
    data = info.get("channel")
    about: dict[str, Any] = data if isinstance(data, dict) else {}
    name = str(about.get("name") or channel)
    if not about.get("is_member"):
        return f"the bot is not in #{name} ({setting}): invite it: /invite @{bot} in #{name}", ""
    try:
        await client.conversations_history(channel=channel, limit=1)
    except SlackApiError as exc:
        return "", (
            f"cannot read #{name} history ({exc.response.get('error', '')}): duplicate posts "
            "after a crash cannot be detected; add channels:history and groups:history"
        )
    return "", ""


async def start_http(
    app: AsyncApp, config: SlackConfig, *, host: str, port: int, check: bool = True
) -> web.AppRunner:
    """Serve ``POST /slack/events`` on ``host:port`` (bound port: ``runner.addresses``)."""
    if not config.signing_secret:
        raise ConfigError(
            "Slack HTTP mode: set SLACK_SIGNING_SECRET (Basic Information → App Credentials)"
        )
    if check:
        await preflight(app.client, config)
    runner = web.AppRunner(events_app(app, config.signing_secret), access_log=None)
    await runner.setup()
    try:
        await web.TCPSite(runner, host, port).start()
    except BaseException:
        await runner.cleanup()
        raise
    log.info("slack: HTTP mode listening on %s%s", runner.addresses, EVENTS_PATH)
    return runner


def events_app(app: AsyncApp, signing_secret: str) -> web.Application:
    """``POST /slack/events`` into Bolt, with a guard Bolt lacks for bodies it cannot parse.

    The signature is checked first (401, as Bolt would), so only Slack can reach the 400
    answer for a malformed payload; Bolt then verifies again and dispatches.
    """
    verifier = SignatureVerifier(signing_secret)

    async def handle(request: web.Request) -> web.Response:
        body = await request.text()
        if not _signed(verifier, body, request):
            return web.json_response({"error": "invalid request"}, status=401)
        try:
            bolt_request = AsyncBoltRequest(
                body=body, query=request.query_string, headers=dict(request.headers)
            )
            response = await app.async_dispatch(bolt_request)
        except Exception:
            # Bolt raises on some shapes it cannot route (e.g. a view without "type").
            log.warning("slack: unusable request of %d bytes", len(body), exc_info=True)
            return web.json_response({"error": "malformed request"}, status=400)
        return await to_aiohttp_response(response)

    web_app = web.Application()
    web_app.router.add_post(EVENTS_PATH, handle)
    return web_app


def _signed(verifier: SignatureVerifier, body: str, request: web.Request) -> bool:
    try:
        return verifier.is_valid_request(body, dict(request.headers))
    except ValueError:  # a timestamp header that is not a number
        return False


async def run_http(app: AsyncApp, config: SlackConfig, *, host: str, port: int) -> None:
    """Run in HTTP mode until cancelled; bad signatures and stale timestamps get 401."""
    runner = await start_http(app, config, host=host, port=port)
    try:
        await asyncio.Event().wait()
    finally:
        await runner.cleanup()


async def run_socket_mode(
    app: AsyncApp, config: SlackConfig, *, check: bool = True, watchdog_s: float = 30.0
) -> None:
    """Run in Socket Mode until cancelled (one process per app: several would split events)."""
    if not config.app_token.startswith("xapp-"):
        raise ConfigError("Slack Socket Mode: set SLACK_APP_TOKEN to an app-level token (xapp-…)")
    if check:
        await preflight(app.client, config)
    handler = AsyncSocketModeHandler(app, config.app_token, web_client=app.client)
    try:
        async with asyncio.TaskGroup() as tasks:
            tasks.create_task(handler.start_async())  # type: ignore[no-untyped-call]  # bolt leaves this untyped
            tasks.create_task(_watchdog(handler, watchdog_s))
    finally:
        await handler.client.close()  # type: ignore[no-untyped-call]  # slack_sdk leaves this untyped


async def _watchdog(handler: AsyncSocketModeHandler, interval_s: float) -> None:
    # The SDK reconnects by itself; this catches the wedged states it has had (slack.md §4.5).
    down = 0
    while True:
        await asyncio.sleep(interval_s)
        down = 0 if await handler.client.is_connected() else down + 1
        if down >= 2:
            log.warning(
                "slack: Socket Mode connection down for %.0f s, reconnecting", down * interval_s
            )
            await handler.client.connect_to_new_endpoint(force=True)
            down = 0
