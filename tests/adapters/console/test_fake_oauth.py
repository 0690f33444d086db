"""The fake OAuth providers are as strict as Discord's and Slack's documentation."""

from collections.abc import AsyncIterator
from typing import Any

import httpx2
import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from tests.support.clock import FakeClock
from tests.support.fake_oauth import (
    DiscordAccount,
    FakeDiscordOAuth,
    FakeSlackOIDC,
    SlackAccount,
    serving,
)
from tests.support.fake_oauth._keys import at_hash

REDIRECT = "http://console.test/login/x/callback"


@pytest.fixture
async def discord() -> AsyncIterator[FakeDiscordOAuth]:
    fake = FakeDiscordOAuth(FakeClock().now)
    fake.redirect_uris.add(REDIRECT)
    fake.add(DiscordAccount("5", "ann", roles=["9"]))
    fake.add(DiscordAccount("6", "eve", member=False))
    async with serving(fake):
        yield fake


@pytest.fixture
async def slack() -> AsyncIterator[FakeSlackOIDC]:
    fake = FakeSlackOIDC(FakeClock().now)
    fake.redirect_uris.add(REDIRECT)
    fake.add(SlackAccount("U1", "Ann", fake.team_id))
    async with serving(fake):
        yield fake


@pytest.fixture
async def http() -> AsyncIterator[httpx2.AsyncClient]:
    async with httpx2.AsyncClient() as client:
        yield client


def authorize_params(client_id: str, scope: str, **changes: str) -> dict[str, str]:
    params = {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code"}
    return {**params, "scope": scope, "state": "st", **changes}


async def code_for(http: httpx2.AsyncClient, base: str, params: dict[str, str]) -> str:
    resp = await http.get(base, params=params)
    assert resp.status_code == 302, resp.text
    query = dict(httpx2.URL(resp.headers["location"]).params)
    assert query["state"] == "st"
    return query["code"]


async def discord_token(
    http: httpx2.AsyncClient, fake: FakeDiscordOAuth, user: str, scope: str, **form: str
) -> httpx2.Response:
    fake.signed_in = user
    code = await code_for(
        http,
        f"http://127.0.0.1:{fake.port}/oauth2/authorize",
        authorize_params(fake.client_id, scope),
    )
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **form}
    return await http.post(
        f"{fake.api_base}/oauth2/token", data=body, auth=(fake.client_id, fake.client_secret)
    )


@pytest.mark.parametrize(
    "change",
    [
        {"redirect_uri": "http://evil.example/cb"},
        {"client_id": "999"},
        {"response_type": "token"},
        {"scope": "identify admin"},
    ],
)
async def test_fake_discord_authorize_refuses_without_redirecting(
    discord: FakeDiscordOAuth, http: httpx2.AsyncClient, change: dict[str, str]
) -> None:
    discord.signed_in = "5"
    params = {**authorize_params(discord.client_id, "identify"), **change}

    resp = await http.get(f"http://127.0.0.1:{discord.port}/oauth2/authorize", params=params)

    assert resp.status_code == 400
    assert "location" not in resp.headers


async def test_fake_discord_token_is_single_use_and_a_replay_revokes(
    discord: FakeDiscordOAuth, http: httpx2.AsyncClient
) -> None:
    discord.signed_in = "5"
    authorize = f"http://127.0.0.1:{discord.port}/oauth2/authorize"
    code = await code_for(http, authorize, authorize_params(discord.client_id, "identify"))
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT}
    secret_in_form = {
        **body,
        "client_id": discord.client_id,
        "client_secret": discord.client_secret,
    }

    first = await http.post(f"{discord.api_base}/oauth2/token", data=secret_in_form)
    token = first.json()["access_token"]
    me_before = await http.get(f"{discord.api_base}/users/@me", headers=bearer(token))
    replay = await http.post(f"{discord.api_base}/oauth2/token", data=secret_in_form)
    me_after = await http.get(f"{discord.api_base}/users/@me", headers=bearer(token))

    assert first.status_code == 200
    assert first.json()["token_type"] == "Bearer"  # noqa: S105  # not a secret
    assert me_before.json()["id"] == "5"
    assert (replay.status_code, replay.json()["error"]) == (400, "invalid_grant")
    assert me_after.status_code == 401


@pytest.mark.parametrize(
    ("form", "auth", "status", "error"),
    [
        ({"redirect_uri": "http://console.test/other"}, None, 400, "invalid_grant"),
        ({}, ("1100000000000000001", "wrong"), 401, "invalid_client"),
        ({"grant_type": "client_credentials"}, None, 400, "unsupported_grant_type"),
    ],
)
async def test_fake_discord_token_checks_redirect_secret_and_grant(
    discord: FakeDiscordOAuth,
    http: httpx2.AsyncClient,
    form: dict[str, str],
    auth: tuple[str, str] | None,
    status: int,
    error: str,
) -> None:
    discord.signed_in = "5"
    authorize = f"http://127.0.0.1:{discord.port}/oauth2/authorize"
    code = await code_for(http, authorize, authorize_params(discord.client_id, "identify"))
    body = {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT, **form}

    resp = await http.post(
        f"{discord.api_base}/oauth2/token",
        data=body,
        auth=auth or (discord.client_id, discord.client_secret),
    )

    assert (resp.status_code, resp.json()["error"]) == (status, error)


async def test_fake_discord_codes_and_tokens_expire(http: httpx2.AsyncClient) -> None:
    clock = FakeClock()
    fake = FakeDiscordOAuth(clock.now, code_ttl_s=60, token_ttl_s=3600)
    fake.redirect_uris.add(REDIRECT)
    fake.add(DiscordAccount("5", "ann"))
    async with serving(fake):
        token = (await discord_token(http, fake, "5", "identify")).json()["access_token"]
        fake.signed_in = "5"
        authorize = f"http://127.0.0.1:{fake.port}/oauth2/authorize"
        late_code = await code_for(http, authorize, authorize_params(fake.client_id, "identify"))

        clock.advance(3600)
        late = await http.post(
            f"{fake.api_base}/oauth2/token",
            data={"grant_type": "authorization_code", "code": late_code, "redirect_uri": REDIRECT},
            auth=(fake.client_id, fake.client_secret),
        )
        me = await http.get(f"{fake.api_base}/users/@me", headers=bearer(token))

        assert late.json()["error"] == "invalid_grant"
        assert me.status_code == 401


@pytest.mark.parametrize(
    ("user", "scope", "guild", "status", "code"),
    [
        ("5", "identify guilds.members.read", None, 200, None),
        ("5", "identify", None, 403, 50001),  # Missing Access: the scope was not granted
        ("6", "identify guilds.members.read", None, 404, 10004),  # not a member
        ("5", "identify guilds.members.read", "31337", 404, 10004),  # another server
    ],
)
async def test_fake_discord_member_endpoint(
    discord: FakeDiscordOAuth,
    http: httpx2.AsyncClient,
    user: str,
    scope: str,
    guild: str | None,
    status: int,
    code: int | None,
) -> None:
    token = (await discord_token(http, discord, user, scope)).json()["access_token"]

    resp = await http.get(
        f"{discord.api_base}/users/@me/guilds/{guild or discord.guild_id}/member",
        headers=bearer(token),
    )

    assert resp.status_code == status
    assert resp.json().get("code") == code
    if status == 200:
        assert resp.json()["roles"] == ["9"]


async def test_fake_discord_bot_calls_need_the_bot_token(
    discord: FakeDiscordOAuth, http: httpx2.AsyncClient
) -> None:
    url = f"{discord.api_base}/guilds/{discord.guild_id}/members"
    bot = {"Authorization": f"Bot {discord.bot_token}"}

    wrong = await http.get(f"{url}/5", headers={"Authorization": "Bot nope"})
    user_token = await http.get(f"{url}/5", headers=bearer(discord.bot_token))
    member = await http.get(f"{url}/5", headers=bot)
    stranger = await http.get(f"{url}/6", headers=bot)

    assert (wrong.status_code, user_token.status_code) == (401, 401)
    assert member.json()["user"]["id"] == "5"
    assert (stranger.status_code, stranger.json()["code"]) == (404, 10007)


async def slack_token(http: httpx2.AsyncClient, fake: FakeSlackOIDC, **form: str) -> dict[str, Any]:
    fake.signed_in = "U1"
    params = authorize_params(fake.client_id, "openid profile email", nonce="n-1")
    code = await code_for(http, f"{fake.issuer}/openid/connect/authorize", params)
    body = {
        "client_id": fake.client_id,
        "client_secret": fake.client_secret,
        "code": code,
        "redirect_uri": REDIRECT,
        **form,
    }
    resp = await http.post(f"{fake.api_base}openid.connect.token", data=body)
    assert resp.status_code == 200  # Slack reports errors in the body
    data: dict[str, Any] = resp.json()
    return data


async def test_fake_slack_id_token_is_signed_with_slack_claims(
    slack: FakeSlackOIDC, http: httpx2.AsyncClient
) -> None:
    data = await slack_token(http, slack)
    keys = KeySet.import_key_set((await http.get(f"{slack.issuer}/openid/connect/keys")).json())

    token = jwt.decode(data["id_token"], keys, algorithms=["RS256"])
    info = await http.post(
        f"{slack.api_base}openid.connect.userInfo", headers=bearer(data["access_token"])
    )

    assert token.header["kid"] == "slack-1"
    claims = token.claims
    assert claims["iss"] == slack.issuer
    assert claims["aud"] == slack.client_id
    assert claims["https://slack.com/team_id"] == slack.team_id
    assert claims["https://slack.com/user_id"] == claims["sub"] == "U1"
    assert claims["nonce"] == "n-1"
    assert claims["at_hash"] == at_hash(data["access_token"])
    assert claims["exp"] > claims["iat"]
    assert info.json()["https://slack.com/user_id"] == "U1"


@pytest.mark.parametrize(
    ("form", "error"),
    [
        ({"client_secret": "wrong"}, "bad_client_secret"),
        ({"client_id": "1.2"}, "invalid_client_id"),
        ({"redirect_uri": "http://console.test/elsewhere"}, "invalid_code"),
        ({"grant_type": "refresh_token"}, "invalid_grant_type"),
    ],
)
async def test_fake_slack_token_errors(
    slack: FakeSlackOIDC, http: httpx2.AsyncClient, form: dict[str, str], error: str
) -> None:
    data = await slack_token(http, slack, **form)

    assert data == {"ok": False, "error": error}


async def test_fake_slack_codes_are_single_use(
    slack: FakeSlackOIDC, http: httpx2.AsyncClient
) -> None:
    slack.signed_in = "U1"
    params = authorize_params(slack.client_id, "openid")
    code = await code_for(http, f"{slack.issuer}/openid/connect/authorize", params)
    body = {
        "client_id": slack.client_id,
        "client_secret": slack.client_secret,
        "code": code,
        "redirect_uri": REDIRECT,
    }

    first = (await http.post(f"{slack.api_base}openid.connect.token", data=body)).json()
    second = (await http.post(f"{slack.api_base}openid.connect.token", data=body)).json()

    assert first["ok"] is True
    assert second == {"ok": False, "error": "invalid_code"}


async def test_fake_slack_authorize_requires_openid(
    slack: FakeSlackOIDC, http: httpx2.AsyncClient
) -> None:
    slack.signed_in = "U1"
    params = authorize_params(slack.client_id, "profile email")

    resp = await http.get(f"{slack.issuer}/openid/connect/authorize", params=params)

    assert resp.status_code == 400


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}
