"""FakeSlackOIDC: Sign in with Slack (OpenID Connect) and the Web API calls the rights check makes.

As strict as api.slack.com/authentication/sign-in-with-slack: client id, registered redirect
URI and scopes (``openid`` required) checked at authorize; ``openid.connect.token`` answers
HTTP 200 with ``ok: false`` and Slack's error names (``invalid_client_id``,
``bad_client_secret``, ``invalid_code``); codes are single-use and expire; the ID token is an
RS256 JWT signed with a key published at ``/openid/connect/keys``, with Slack's claim names
(``https://slack.com/team_id``, ``https://slack.com/user_id``), ``nonce`` and ``at_hash``.
ID token times are real time (the client checks ``exp`` against the wall clock); codes and
access tokens follow the fake's clock.
"""

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from aiohttp import web
from joserfc.jwk import RSAKey

from tests.support.fake_oauth._grants import Grants, client_credentials
from tests.support.fake_oauth._keys import at_hash, jwks, sign, signing_key
from tests.support.fake_oauth._web import as_json, authorize_problem, redirect

CLIENT_SECRET = "slack-client-secret"  # noqa: S105  # a fake secret for the fake server
BOT_TOKEN = "xoxb-slack-bot-token"  # noqa: S105  # a fake token for the fake server
SCOPES = ("openid", "profile", "email")
TEAM_CLAIM = "https://slack.com/team_id"
USER_CLAIM = "https://slack.com/user_id"


@dataclass
class SlackAccount:
    """A Slack user in one workspace."""

    id: str
    name: str
    team_id: str
    deleted: bool = False

    @property
    def email(self) -> str:
        return f"{self.name.lower()}@example.com"


class FakeSlackOIDC:
    """The fake; ``signed_in`` is whoever is logged in to Slack in the browser."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        client_id: str = "25259531569.1115258246291",
        client_secret: str = CLIENT_SECRET,
        team_id: str = "T0JOKES",
        bot_token: str = BOT_TOKEN,
        code_ttl_s: float = 600.0,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.team_id, self.bot_token = team_id, bot_token
        self.redirect_uris: set[str] = set()
        self.accounts: dict[str, SlackAccount] = {}
        self.groups: dict[str, list[str]] = {}
        self.signed_in: str | None = None
        self.key = signing_key("slack-1")
        self.sign_with: RSAKey | None = None  # sign ID tokens with another (unpublished) key
        self.id_token_ttl_s = 300.0
        self.claims_patch: dict[str, Any] = {}  # overrides in the next ID tokens
        self.grants = Grants(now, code_ttl_s=code_ttl_s, token_ttl_s=None)
        self.calls: list[str] = []  # Web API methods called with the bot token
        self.port = 0
        self.app = web.Application()
        self.app.router.add_get("/openid/connect/authorize", self._authorize)
        self.app.router.add_get("/openid/connect/keys", self._keys)
        self.app.router.add_post("/api/openid.connect.token", self._token)
        self.app.router.add_route("*", "/api/openid.connect.userInfo", self._userinfo)
        self.app.router.add_post("/api/users.info", self._users_info)
        self.app.router.add_post("/api/usergroups.users.list", self._group_users)

    @property
    def issuer(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def api_base(self) -> str:
        return f"{self.issuer}/api/"

    def add(self, account: SlackAccount) -> SlackAccount:
        self.accounts[account.id] = account
        return account

    # ---- OpenID Connect -----------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        problem = authorize_problem(query, self.client_id, self.redirect_uris, SCOPES)
        if not problem and "openid" not in query["scope"].split():
            problem = "the openid scope is required"
        if problem:
            return web.Response(status=400, text=f"Invalid OpenID request: {problem}")
        if self.signed_in is None:
            return web.Response(status=401, text="Sign in to your workspace to continue")
        state = {"state": query["state"]} if "state" in query else {}
        nonce = {"nonce": query["nonce"]} if "nonce" in query else {}
        scopes = frozenset(query["scope"].split())
        code = self.grants.issue_code(
            self.client_id, query["redirect_uri"], self.signed_in, scopes, **nonce
        )
        return redirect(query["redirect_uri"], code=code, **state)

    async def _keys(self, request: web.Request) -> web.Response:
        return as_json(jwks(self.key))

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        credentials = client_credentials(request.headers.get("Authorization"), form)
        if credentials is None or credentials[0] != self.client_id:
            return as_json({"ok": False, "error": "invalid_client_id"})
        if credentials[1] != self.client_secret:
            return as_json({"ok": False, "error": "bad_client_secret"})
        if form.get("grant_type", "authorization_code") != "authorization_code":
            return as_json({"ok": False, "error": "invalid_grant_type"})
        redirect_uri = form.get("redirect_uri")
        grant = self.grants.redeem(
            str(form.get("code", "")), self.client_id, str(redirect_uri) if redirect_uri else None
        )
        if grant is None:
            return as_json({"ok": False, "error": "invalid_code"})
        token, _ = self.grants.issue_token(grant, prefix="xoxp-")
        account = self.accounts[grant.user_id]
        claims = {**self._claims(account), "nonce": grant.extra.get("nonce")}
        claims = {**claims, "at_hash": at_hash(token), **self.claims_patch}
        id_token = sign(
            {k: v for k, v in claims.items() if v is not None}, self.sign_with or self.key
        )
        return as_json(
            {"ok": True, "access_token": token, "token_type": "Bearer", "id_token": id_token}
        )

    def _claims(self, account: SlackAccount) -> dict[str, Any]:
        issued = int(time.time())
        return {
            "iss": self.issuer,
            "sub": account.id,
            "aud": self.client_id,
            "exp": issued + int(self.id_token_ttl_s),
            "iat": issued,
            "auth_time": issued,
            TEAM_CLAIM: account.team_id,
            USER_CLAIM: account.id,
            "email": account.email,
            "email_verified": True,
            "locale": "en-US",
            "name": account.name,
            "given_name": account.name,
            "family_name": "",
            "https://slack.com/team_name": "Jokes",
            "https://slack.com/team_domain": "jokes",
        }

    async def _userinfo(self, request: web.Request) -> web.Response:
        token = self.grants.token(request.headers.get("Authorization"))
        if token is None:
            return as_json({"ok": False, "error": "invalid_auth"})
        claims = self._claims(self.accounts[token.user_id])
        drop = ("iss", "aud", "exp", "iat", "auth_time")
        return as_json({"ok": True, **{k: v for k, v in claims.items() if k not in drop}})

    # ---- Web API with the bot token -----------------------------------------------------

    async def _bot_form(self, request: web.Request) -> dict[str, str] | None:
        self.calls.append(request.path.removeprefix("/api/"))
        if request.headers.get("Authorization") != f"Bearer {self.bot_token}":
            return None
        return {k: str(v) for k, v in (await request.post()).items()}

    async def _users_info(self, request: web.Request) -> web.Response:
        form = await self._bot_form(request)
        if form is None:
            return as_json({"ok": False, "error": "invalid_auth"})
        account = self.accounts.get(form.get("user", ""))
        if account is None or account.team_id != self.team_id:
            return as_json({"ok": False, "error": "user_not_found"})
        user = {
            "id": account.id,
            "team_id": account.team_id,
            "name": account.name,
            "deleted": account.deleted,
            "is_bot": False,
            "profile": {"real_name": account.name, "display_name": account.name},
        }
        return as_json({"ok": True, "user": user})

    async def _group_users(self, request: web.Request) -> web.Response:
        form = await self._bot_form(request)
        if form is None:
            return as_json({"ok": False, "error": "invalid_auth"})
        group = form.get("usergroup", "")
        if group not in self.groups:
            return as_json({"ok": False, "error": "no_such_subteam"})
        return as_json({"ok": True, "users": list(self.groups[group])})
