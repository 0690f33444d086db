"""FakeDiscordOAuth: Discord's OAuth2 authorize page, token endpoint and the REST sign-in uses.

As strict as developers/topics/oauth2: the client id, the registered redirect URI and the
scopes are checked before anything is issued; codes are single-use, bound to their client and
redirect URI, and expire; the client secret is checked (HTTP Basic or the form); access tokens
expire; ``/users/@me/guilds/{guild}/member`` needs ``guilds.members.read`` (403 Missing Access)
and answers 404 Unknown Guild for a non-member; bot calls need ``Authorization: Bot <token>``.
"""

from collections.abc import Callable
from dataclasses import dataclass, field

from aiohttp import web

from tests.support.fake_oauth._grants import Grants, client_credentials
from tests.support.fake_oauth._web import as_json, authorize_problem, redirect

CLIENT_SECRET = "discord-client-secret"  # noqa: S105  # a fake secret for the fake server
BOT_TOKEN = "discord-bot-token"  # noqa: S105  # a fake token for the fake server
SCOPES = ("identify", "email", "guilds", "guilds.members.read", "connections")
UNAUTHORIZED = {"message": "401: Unauthorized", "code": 0}
MISSING_ACCESS = {"message": "Missing Access", "code": 50001}
UNKNOWN_GUILD = {"message": "Unknown Guild", "code": 10004}
UNKNOWN_MEMBER = {"message": "Unknown Member", "code": 10007}


@dataclass
class DiscordAccount:
    """A Discord user and, if they are in the fake server, their membership."""

    id: str
    username: str
    global_name: str | None = None
    member: bool = True
    nick: str | None = None
    roles: list[str] = field(default_factory=list)

    def user_json(self) -> dict[str, object]:
        return {
            "id": self.id,
            "username": self.username,
            "global_name": self.global_name,
            "discriminator": "0",
            "avatar": None,
        }

    def member_json(self) -> dict[str, object]:
        return {
            "user": self.user_json(),
            "nick": self.nick,
            "roles": list(self.roles),
            "joined_at": "2026-01-01T00:00:00+00:00",
            "deaf": False,
            "mute": False,
            "flags": 0,
        }


class FakeDiscordOAuth:
    """The fake; ``signed_in`` is whoever is logged in to Discord in the browser."""

    def __init__(
        self,
        now: Callable[[], float],
        *,
        client_id: str = "1100000000000000001",
        client_secret: str = CLIENT_SECRET,
        guild_id: str = "2200000000000000002",
        bot_token: str = BOT_TOKEN,
        code_ttl_s: float = 600.0,
        token_ttl_s: float = 604_800.0,
    ) -> None:
        self.client_id, self.client_secret = client_id, client_secret
        self.guild_id, self.bot_token = guild_id, bot_token
        self.redirect_uris: set[str] = set()
        self.accounts: dict[str, DiscordAccount] = {}
        self.role_permissions: dict[str, int] = {guild_id: 0}  # @everyone's id is the guild's
        self.owner_id = "1"
        self.signed_in: str | None = None
        self.deny = False  # the user clicks "Cancel" on the consent screen
        self.grants = Grants(now, code_ttl_s=code_ttl_s, token_ttl_s=token_ttl_s)
        self.calls: list[str] = []  # "GET /api/v10/..." of every REST call
        self.port = 0
        self.app = web.Application()
        self.app.router.add_get("/oauth2/authorize", self._authorize)
        self.app.router.add_post("/api/v10/oauth2/token", self._token)
        self.app.router.add_get("/api/v10/users/@me", self._me)
        self.app.router.add_get("/api/v10/users/@me/guilds/{guild}/member", self._my_member)
        self.app.router.add_get("/api/v10/guilds/{guild}/members/{user}", self._member)
        self.app.router.add_get("/api/v10/guilds/{guild}", self._guild)

    @property
    def api_base(self) -> str:
        return f"http://127.0.0.1:{self.port}/api/v10"

    def add(self, account: DiscordAccount) -> DiscordAccount:
        self.accounts[account.id] = account
        return account

    # ---- OAuth2 -------------------------------------------------------------------------

    async def _authorize(self, request: web.Request) -> web.Response:
        query = request.query
        problem = authorize_problem(query, self.client_id, self.redirect_uris, SCOPES)
        if problem:
            return web.Response(status=400, text=f"Invalid OAuth2 request: {problem}")
        if self.signed_in is None:
            return web.Response(status=401, text="Log in to Discord to continue")
        state = {"state": query["state"]} if "state" in query else {}
        if self.deny:
            return redirect(query["redirect_uri"], error="access_denied", **state)
        scopes = frozenset(query["scope"].split())
        code = self.grants.issue_code(self.client_id, query["redirect_uri"], self.signed_in, scopes)
        return redirect(query["redirect_uri"], code=code, **state)

    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if client_credentials(request.headers.get("Authorization"), form) != (
            self.client_id,
            self.client_secret,
        ):
            return as_json({"error": "invalid_client"}, 401)
        if form.get("grant_type") != "authorization_code":
            return as_json({"error": "unsupported_grant_type"}, 400)
        redirect_uri = form.get("redirect_uri")
        grant = self.grants.redeem(
            str(form.get("code", "")), self.client_id, str(redirect_uri) if redirect_uri else None
        )
        if grant is None:
            bad = {"error": "invalid_grant", "error_description": 'Invalid "code" in request.'}
            return as_json(bad, 400)
        token, issued = self.grants.issue_token(grant)
        return as_json(
            {
                "access_token": token,
                "token_type": "Bearer",
                "expires_in": int(self.grants.token_ttl_s or 0),
                "refresh_token": "refresh-" + token,
                "scope": " ".join(sorted(issued.scopes)),
            }
        )

    # ---- REST ---------------------------------------------------------------------------

    def _log(self, request: web.Request) -> None:
        self.calls.append(f"{request.method} {request.path}")

    async def _me(self, request: web.Request) -> web.Response:
        self._log(request)
        token = self.grants.token(request.headers.get("Authorization"))
        if token is None:
            return as_json(UNAUTHORIZED, 401)
        if "identify" not in token.scopes:
            return as_json(MISSING_ACCESS, 403)
        return as_json(self.accounts[token.user_id].user_json())

    async def _my_member(self, request: web.Request) -> web.Response:
        self._log(request)
        token = self.grants.token(request.headers.get("Authorization"))
        if token is None:
            return as_json(UNAUTHORIZED, 401)
        if "guilds.members.read" not in token.scopes:
            return as_json(MISSING_ACCESS, 403)
        account = self.accounts.get(token.user_id)
        if request.match_info["guild"] != self.guild_id or account is None or not account.member:
            return as_json(UNKNOWN_GUILD, 404)
        return as_json(account.member_json())

    def _bot_refusal(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bot {self.bot_token}":
            return as_json(UNAUTHORIZED, 401)
        if request.match_info["guild"] != self.guild_id:
            return as_json(MISSING_ACCESS, 403)  # the bot is not in that server
        return None

    async def _member(self, request: web.Request) -> web.Response:
        self._log(request)
        if (refusal := self._bot_refusal(request)) is not None:
            return refusal
        account = self.accounts.get(request.match_info["user"])
        if account is None or not account.member:
            return as_json(UNKNOWN_MEMBER, 404)
        return as_json(account.member_json())

    async def _guild(self, request: web.Request) -> web.Response:
        self._log(request)
        if (refusal := self._bot_refusal(request)) is not None:
            return refusal
        roles = [
            {
                "id": rid,
                "name": "@everyone" if rid == self.guild_id else f"role {rid}",
                "permissions": str(bits),
            }
            for rid, bits in self.role_permissions.items()
        ]
        return as_json(
            {"id": self.guild_id, "name": "Jokes", "owner_id": self.owner_id, "roles": roles}
        )
