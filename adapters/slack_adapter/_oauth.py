"""The OAuth install flow (multi-workspace mode): Bolt's own AsyncOAuthFlow, on our store.

``GET /slack/install`` sets the state cookie and shows the "Add to Slack" page (the state is
stored, single-use, for 10 minutes); Slack sends the browser back to
``GET /slack/oauth_redirect?code=…&state=…``, where Bolt checks state and cookie, exchanges
the code (``oauth.v2.access``) and saves the installation through
:class:`adapters.slack_adapter._installs.PortInstallationStore`.
"""

from aiohttp import web
from slack_bolt.adapter.aiohttp import to_aiohttp_response
from slack_bolt.async_app import AsyncBoltRequest
from slack_bolt.oauth.async_oauth_flow import AsyncOAuthFlow
from slack_bolt.oauth.async_oauth_settings import AsyncOAuthSettings
from slack_sdk.web.async_client import AsyncWebClient

from adapters.slack_adapter._config import DEFAULT_API_BASE, SlackConfig
from adapters.slack_adapter._installs import PortInstallationStore, PortStateStore
from adapters.slack_adapter._workspaces import Workspaces
from bot.ports import Clock, Installations

REFRESH_TIMEOUT_S = 10


def workspaces_for(config: SlackConfig, installs: Installations, clock: Clock) -> Workspaces:
    """The token source of every installed workspace (its own client for the refreshes).

    A refresh runs while it holds the installation's lock (on SQLite: the database's write
    lock), so its call gets a short timeout rather than slack_sdk's 30 s.
    """
    client = AsyncWebClient(base_url=config.api_base or DEFAULT_API_BASE, timeout=REFRESH_TIMEOUT_S)
    return Workspaces(
        installs,
        client,
        client_id=config.client_id,
        client_secret=config.client_secret,
        clock=clock,
    )


def oauth_flow(
    config: SlackConfig, installs: Installations, clock: Clock, client: AsyncWebClient
) -> AsyncOAuthFlow:
    """Bolt's flow with our installation and state stores (bot scopes only)."""
    settings = AsyncOAuthSettings(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scopes=list(config.bot_scopes),
        user_scopes=[],
        redirect_uri=config.redirect_url or None,
        installation_store=PortInstallationStore(installs, clock),
        installation_store_bot_only=True,
        state_store=PortStateStore(installs, clock),
        authorization_url=config.authorize_url,
    )
    return AsyncOAuthFlow(client=client, settings=settings)


def add_oauth_routes(web_app: web.Application, flow: AsyncOAuthFlow) -> None:
    """``GET`` the install page and the redirect, handled by Bolt's flow."""

    async def install(request: web.Request) -> web.Response:
        response = await flow.handle_installation(_bolt_request(request))
        return await to_aiohttp_response(response)

    async def redirect(request: web.Request) -> web.Response:
        response = await flow.handle_callback(_bolt_request(request))
        return await to_aiohttp_response(response)

    web_app.router.add_get(flow.install_path, install)
    web_app.router.add_get(flow.redirect_uri_path, redirect)


def _bolt_request(request: web.Request) -> AsyncBoltRequest:
    return AsyncBoltRequest(body="", query=request.query_string, headers=dict(request.headers))
