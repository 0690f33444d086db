"""Slack adapter: slack-bolt AsyncApp in Socket Mode or HTTP mode, and the Slack EffectSender.

Wiring (bot/app.py)::

    app, sender = build_slack(SlackConfig(...), service)
    senders["slack"] = sender
    await run_socket_mode(app, config)  # or: await run_http(app, config, host=h, port=p)
"""

from aiohttp import ClientConnectorError
from slack_bolt.async_app import AsyncApp
from slack_sdk.http_retry.builtin_async_handlers import (
    AsyncConnectionErrorRetryHandler,
    AsyncRateLimitErrorRetryHandler,
)
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._app import SlackListeners
from adapters.slack_adapter._checks import preflight
from adapters.slack_adapter._config import SlackConfig
from adapters.slack_adapter._moderators import Moderators
from adapters.slack_adapter._sender import SlackSender
from adapters.slack_adapter._server import EVENTS_PATH, run_http, run_socket_mode, serve_http
from bot.ports import EventSink

DEFAULT_API_BASE = "https://slack.com/api/"

__all__ = [
    "EVENTS_PATH",
    "SlackConfig",
    "SlackSender",
    "build_slack",
    "preflight",
    "run_http",
    "run_socket_mode",
    "serve_http",
]


def build_slack(config: SlackConfig, sink: EventSink) -> tuple[AsyncApp, SlackSender]:
    """The Bolt app (listeners registered) and the outbox sender, from plain values."""
    client = AsyncWebClient(
        token=config.bot_token,
        base_url=config.api_base or DEFAULT_API_BASE,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(),
            AsyncRateLimitErrorRetryHandler(max_retry_count=config.rate_limit_retries),
        ],
    )
    app = AsyncApp(client=client, signing_secret=config.signing_secret, name="jokebot")
    moderators = Moderators(
        client, config.moderators, config.moderator_group, ttl_s=config.group_cache_s
    )
    SlackListeners(sink, config, moderators).register(app)
    sender = SlackSender(_sender_client(config), history_limit=config.history_limit, pool=client)
    return app, sender


def _sender_client(config: SlackConfig) -> AsyncWebClient:
    # The outbox retries only what certainly was not applied: a connection never made. A
    # connection lost mid-request becomes OutcomeUnknown, and the runtime reconciles first.
    return AsyncWebClient(
        token=config.bot_token,
        base_url=config.api_base or DEFAULT_API_BASE,
        retry_handlers=[
            AsyncConnectionErrorRetryHandler(error_types=[ClientConnectorError]),
            AsyncRateLimitErrorRetryHandler(max_retry_count=config.rate_limit_retries),
        ],
    )
