"""Slack adapter: slack-bolt AsyncApp in Socket Mode or HTTP mode, and the Slack EffectSender.

Wiring (``bot/app/``)::

    app, sender = build_slack(SlackConfig(...), service)
    core.register_sender("slack", sender)
    await run_socket_mode(app, config)  # or: await run_http(app, config, host=h, port=p)

The private modules have the same names and jobs as in ``adapters/discord_adapter/``:
``_inbound`` (payloads in), ``_listeners`` (what a command, click or submit does), ``_render``
(Block Kit, modals), ``_buttons`` (action and modal ids), ``_sender``, ``_moderators``,
``_errors``, ``_config`` and ``_client`` (building the app, HTTP and Socket Mode); plus
``_checks`` (the start-up preflight), ``_doctor`` (``jokebot doctor``'s check), ``_markup``
(mrkdwn escaping, the mentions we mean),
``_messages`` (the public post, notices, alerts, answers) and ``_reconcile`` (the history scan).
What both platforms share is in ``adapters/_review.py`` and ``adapters/_text.py``.
"""

from adapters.slack_adapter._checks import preflight
from adapters.slack_adapter._client import (
    EVENTS_PATH,
    build_slack,
    run_http,
    run_socket_mode,
    serve_http,
)
from adapters.slack_adapter._config import SlackConfig
from adapters.slack_adapter._doctor import NEEDED, SlackCheck
from adapters.slack_adapter._sender import SlackSender

__all__ = [
    "EVENTS_PATH",
    "NEEDED",
    "SlackCheck",
    "SlackConfig",
    "SlackSender",
    "build_slack",
    "preflight",
    "run_http",
    "run_socket_mode",
    "serve_http",
]
