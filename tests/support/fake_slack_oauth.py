"""FakeSlack's OAuth side: the app's credentials, workspaces that install it, codes and tokens.

As docs.slack.dev describes "Installing with OAuth" and "Using token rotation":

- ``GET /oauth/v2/authorize`` (the browser) sends the user back to the app's redirect URL
  with a ``code`` and the app's ``state``; the user approves for :attr:`SlackOAuth.installing`.
  A ``redirect_uri`` that is not one of the app's Redirect URLs is refused there.
- ``oauth.v2.access`` needs the client id and secret (HTTP Basic auth or form fields).
  ``grant_type=authorization_code`` (the default): the code is single-use and expires after
  10 minutes; when the authorize step named a ``redirect_uri`` the exchange must send the same.
  ``grant_type=refresh_token``: a new access token and a new refresh token; the old refresh
  token is revoked at once (``invalid_refresh_token`` afterwards).
- With rotation on, access tokens (``xoxe.xoxb-…``) expire after 12 hours: every Web API
  method then answers ``token_expired``.
"""

import base64
import itertools
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

from tests.support.fake_slack_world import Clock

CODE_TTL_S = 600.0  # an authorization code is good for 10 minutes
TOKEN_TTL_S = 43_200  # a rotating access token lives 12 hours
CLIENT_ID = "1111.2222"
CLIENT_SECRET = "fake-client-secret"  # noqa: S105  # the fake app's secret
APP_ID = "A0JOKEBOT"


@dataclass(frozen=True)
class Workspace:
    """A workspace the app may be installed into, with the bot user it gets there."""

    team_id: str
    name: str
    bot_user: str
    bot_id: str
    installer: str = "U0ADMIN"


@dataclass
class Grant:
    """A bot token Slack issued for one workspace."""

    workspace: Workspace
    scopes: frozenset[str]
    expires_at: float | None  # None: a token that never expires (rotation off)


@dataclass
class Code:
    """An authorization code from the authorize step."""

    workspace: Workspace
    scopes: frozenset[str]
    redirect_uri: str | None
    issued_at: float
    used: bool = False


@dataclass
class SlackOAuth:
    """The app's OAuth state on the fake's side; :meth:`access` is ``oauth.v2.access``."""

    clock: Clock
    redirect_urls: tuple[str, ...] = ()
    rotation: bool = True
    workspaces: dict[str, Workspace] = field(default_factory=dict)
    installing: str = ""  # the team the next authorize is approved for
    grants: dict[str, Grant] = field(default_factory=dict)  # access token -> grant
    refresh_tokens: dict[str, Grant] = field(default_factory=dict)  # live refresh tokens
    codes: dict[str, Code] = field(default_factory=dict)
    exchanges: list[str] = field(default_factory=list)  # grant types of successful exchanges
    _ids: "itertools.count[int]" = field(default_factory=lambda: itertools.count(1))

    def add_workspace(self, workspace: Workspace) -> None:
        """A workspace whose admin may install the app (``installing`` picks who does)."""
        self.workspaces[workspace.team_id] = workspace
        self.installing = self.installing or workspace.team_id

    def issue(self, workspace: Workspace, scopes: frozenset[str]) -> tuple[str, str]:
        """A new access token (and refresh token, with rotation) for ``workspace``."""
        n = next(self._ids)
        if not self.rotation:
            token = f"xoxb-{workspace.team_id}-{n}"
            self.grants[token] = Grant(workspace, scopes, None)
            return token, ""
        token, refresh = f"xoxe.xoxb-1-{workspace.team_id}-{n}", f"xoxe-1-{workspace.team_id}-{n}"
        grant = Grant(workspace, scopes, self.clock.now() + TOKEN_TTL_S)
        self.grants[token] = grant
        self.refresh_tokens[refresh] = grant
        return token, refresh

    def token_error(self, token: str) -> str | None:
        """Why a Web API call with ``token`` is refused, or None if it is good."""
        grant = self.grants.get(token)
        if grant is None:
            return "invalid_auth"
        if grant.expires_at is not None and self.clock.now() >= grant.expires_at:
            return "token_expired"
        return None

    # -- the browser's side ------------------------------------------------------------

    def authorize(self, query: str) -> tuple[int, str]:
        """``GET /oauth/v2/authorize``: ``(302, where to)`` or ``(400, why)``."""
        params = {k: v[0] for k, v in parse_qs(query).items()}
        if params.get("client_id") != CLIENT_ID:
            return 400, "invalid_client_id"
        redirect = params.get("redirect_uri")
        if redirect is not None and redirect not in self.redirect_urls:
            return 400, "bad_redirect_uri"  # must be one of the app's Redirect URLs
        target = redirect or (self.redirect_urls[0] if self.redirect_urls else "")
        workspace = self.workspaces.get(self.installing)
        if not target or workspace is None:
            return 400, "no_redirect_url" if not target else "no_workspace"
        code = f"{workspace.team_id}.{next(self._ids)}.code"
        scopes = frozenset(s for s in params.get("scope", "").split(",") if s)
        self.codes[code] = Code(workspace, scopes, redirect, self.clock.now())
        answer = {"code": code, **({"state": params["state"]} if "state" in params else {})}
        sep = "&" if urlsplit(target).query else "?"
        return 302, f"{target}{sep}{urlencode(answer)}"

    # -- oauth.v2.access ---------------------------------------------------------------

    def access(self, params: dict[str, Any], authorization: str) -> dict[str, Any]:
        """``oauth.v2.access``, both grant types."""
        client_id, secret = _client(params, authorization)
        if client_id != CLIENT_ID:
            return _error("invalid_client_id")
        if secret != CLIENT_SECRET:
            return _error("bad_client_secret")
        grant_type = str(params.get("grant_type") or "authorization_code")
        if grant_type == "authorization_code":
            return self._by_code(params)
        if grant_type == "refresh_token":
            return self._by_refresh(str(params.get("refresh_token", "")))
        return _error("invalid_grant_type")

    def _by_code(self, params: dict[str, Any]) -> dict[str, Any]:
        code = self.codes.get(str(params.get("code", "")))
        if code is None or code.used or self.clock.now() - code.issued_at > CODE_TTL_S:
            return _error("invalid_code")
        if code.redirect_uri is not None and params.get("redirect_uri") != code.redirect_uri:
            return _error("bad_redirect_uri")
        code.used = True
        token, refresh = self.issue(code.workspace, code.scopes)
        self.exchanges.append("authorization_code")
        return {
            **self._answer(code.workspace, code.scopes, token, refresh),
            "authed_user": {"id": code.workspace.installer},
        }

    def _by_refresh(self, refresh: str) -> dict[str, Any]:
        grant = self.refresh_tokens.pop(refresh, None)  # single-use: revoked by this exchange
        if grant is None:
            return _error("invalid_refresh_token")
        token, new_refresh = self.issue(grant.workspace, grant.scopes)
        self.exchanges.append("refresh_token")
        return self._answer(grant.workspace, grant.scopes, token, new_refresh)

    def _answer(
        self, workspace: Workspace, scopes: frozenset[str], token: str, refresh: str
    ) -> dict[str, Any]:
        rotating = {"refresh_token": refresh, "expires_in": TOKEN_TTL_S} if refresh else {}
        return {
            "ok": True,
            "app_id": APP_ID,
            "access_token": token,
            "token_type": "bot",
            "scope": ",".join(sorted(scopes)),
            "bot_user_id": workspace.bot_user,
            "team": {"id": workspace.team_id, "name": workspace.name},
            "enterprise": None,
            "is_enterprise_install": False,
            **rotating,
        }


def _client(params: dict[str, Any], authorization: str) -> tuple[str, str]:
    """The client id and secret: HTTP Basic auth first, else the form fields."""
    if authorization.startswith("Basic "):
        try:
            pair = base64.b64decode(authorization.removeprefix("Basic ")).decode()
        except ValueError:
            return "", ""
        client_id, _, secret = pair.partition(":")
        return client_id, secret
    return str(params.get("client_id", "")), str(params.get("client_secret", ""))


def _error(name: str) -> dict[str, Any]:
    return {"ok": False, "error": name}
