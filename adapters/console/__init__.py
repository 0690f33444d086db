"""The web console: a review surface in the browser (FastAPI, Jinja2, plain JavaScript).

``create_app`` builds the app; ``_identity`` says who is signed in and what they may do,
``_login`` the one-time login link, ``_csrf`` the form tokens, one router module per page
(``_queue``, ``_run``, ``_queues``, ``_decide``, ``_events``, ``_history`` with ``_export``,
``_stats`` with its charts in ``_svg``), ``_sender`` its outbox side.
Templates and static files ship in the package: no Node build, no CDN.
"""

from adapters.console._app import create_app
from adapters.console._config import ConsoleConfig
from adapters.console._history import history_router
from adapters.console._identity import (
    LOCAL_ADMIN,
    Identity,
    ModeratorCheck,
    Rights,
    Role,
    sign_in,
    signed_in,
)
from adapters.console._login import LoginLinks
from adapters.console._sender import CHANNEL, PLATFORM, ConsoleSender
from adapters.console._stats import stats_router

__all__ = [
    "CHANNEL",
    "LOCAL_ADMIN",
    "PLATFORM",
    "ConsoleConfig",
    "ConsoleSender",
    "Identity",
    "LoginLinks",
    "ModeratorCheck",
    "Rights",
    "Role",
    "create_app",
    "history_router",
    "sign_in",
    "signed_in",
    "stats_router",
]
