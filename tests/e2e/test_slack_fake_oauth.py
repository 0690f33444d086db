"""FakeSlack's OAuth rules, as strict as docs.slack.dev: the authorize step, oauth.v2.access by
code and by refresh token, expiring rotating tokens, and workspaces kept apart."""

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import aiohttp
import pytest

from tests.support.clock import FakeClock
from tests.support.fake_slack import FakeSlack
from tests.support.fake_slack_oauth import CLIENT_ID, CLIENT_SECRET, CODE_TTL_S, TOKEN_TTL_S
from tests.support.slack_oauth import CHANNELS, ONE, TWO

REDIRECT = "https://bot.example.com/slack/oauth_redirect"
WRONG_SECRET = "not-the-secret"  # noqa: S105  # a made-up secret


@pytest.fixture
async def fake() -> AsyncIterator[FakeSlack]:
    async with FakeSlack(channels={}, clock=FakeClock()) as slack:
        for workspace in (ONE, TWO):
            slack.add_workspace(workspace, CHANNELS[workspace.team_id])
        slack.oauth.redirect_urls = (REDIRECT,)
        yield slack


@pytest.fixture
async def http() -> AsyncIterator[aiohttp.ClientSession]:
    async with aiohttp.ClientSession() as session:
        yield session


def basic(client_id: str = CLIENT_ID, secret: str = CLIENT_SECRET) -> dict[str, str]:
    pair = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {pair}"}


async def access(
    http: aiohttp.ClientSession, fake: FakeSlack, headers: dict[str, str], **form: str
) -> Any:
    url = f"{fake.base_url}oauth.v2.access"
    async with http.post(url, data=form, headers=headers) as resp:
        return await resp.json()


async def call(
    http: aiohttp.ClientSession, fake: FakeSlack, token: str, method: str, **p: Any
) -> Any:
    headers = {"Authorization": f"Bearer {token}"}
    async with http.post(f"{fake.base_url}{method}", json=p, headers=headers) as resp:
        return await resp.json()


async def authorize(
    http: aiohttp.ClientSession, fake: FakeSlack, team: str, **params: str
) -> tuple[int, str]:
    """The browser at Slack's authorize page, approved for ``team``: (status, Location/text)."""
    fake.oauth.installing = team
    query = urlencode({"client_id": CLIENT_ID, "scope": "commands,chat:write", **params})
    async with http.get(f"{fake.authorize_url}?{query}", allow_redirects=False) as resp:
        return resp.status, resp.headers.get("Location") or await resp.text()


def code_of(location: str) -> dict[str, str]:
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


async def test_authorize_redirects_with_a_code_and_the_state(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    status, location = await authorize(http, fake, "T1", state="s1", redirect_uri=REDIRECT)
    bad_redirect = await authorize(http, fake, "T1", redirect_uri="https://evil.example/cb")

    assert status == 302
    assert location.startswith(REDIRECT + "?")
    assert code_of(location)["state"] == "s1"
    assert bad_redirect == (400, "bad_redirect_uri")


async def test_code_exchange_needs_the_secret_the_redirect_and_works_once(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    _, location = await authorize(http, fake, "T2", redirect_uri=REDIRECT)
    code = code_of(location)["code"]

    wrong_secret = await access(
        http, fake, basic(secret=WRONG_SECRET), code=code, redirect_uri=REDIRECT
    )
    wrong_id = await access(http, fake, basic(client_id="9.9"), code=code, redirect_uri=REDIRECT)
    no_redirect = await access(http, fake, basic(), code=code)
    granted = await access(http, fake, basic(), code=code, redirect_uri=REDIRECT)
    again = await access(http, fake, basic(), code=code, redirect_uri=REDIRECT)

    assert wrong_secret["error"] == "bad_client_secret"
    assert wrong_id["error"] == "invalid_client_id"
    assert no_redirect["error"] == "bad_redirect_uri"
    assert granted["ok"] is True
    assert granted["team"] == {"id": "T2", "name": "Two"}
    assert (granted["token_type"], granted["bot_user_id"]) == ("bot", "U2BOT")
    assert granted["expires_in"] == TOKEN_TTL_S
    assert granted["scope"] == "chat:write,commands"
    assert again["error"] == "invalid_code"  # single-use


async def test_code_expires_after_ten_minutes_and_form_credentials_work(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    _, location = await authorize(http, fake, "T1")
    fake.clock.advance(CODE_TTL_S + 1)  # type: ignore[attr-defined]

    late = await access(
        http,
        fake,
        {},
        code=code_of(location)["code"],
        client_id=CLIENT_ID,
        client_secret=CLIENT_SECRET,
    )

    assert late["error"] == "invalid_code"


async def test_refresh_rotates_and_revokes_the_old_refresh_token(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    _, location = await authorize(http, fake, "T1")
    first = await access(http, fake, basic(), code=code_of(location)["code"])
    form = {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]}

    second = await access(http, fake, basic(), **form)
    replayed = await access(http, fake, basic(), **form)
    unknown_grant = await access(http, fake, basic(), grant_type="password")

    assert second["ok"] is True
    assert second["access_token"] != first["access_token"]
    assert second["refresh_token"] != first["refresh_token"]
    assert replayed["error"] == "invalid_refresh_token"
    assert unknown_grant["error"] == "invalid_grant_type"


async def test_rotating_tokens_expire_on_every_method_and_answer_for_their_workspace(
    fake: FakeSlack, http: aiohttp.ClientSession
) -> None:
    tokens = {}
    for team in ("T1", "T2"):
        _, location = await authorize(http, fake, team)
        tokens[team] = (await access(http, fake, basic(), code=code_of(location)["code"]))[
            "access_token"
        ]

    who = await call(http, fake, tokens["T2"], "auth.test")
    own = await call(http, fake, tokens["T1"], "chat.postMessage", channel="C1MOD", text="hi")
    other = await call(http, fake, tokens["T1"], "chat.postMessage", channel="C2MOD", text="hi")
    fake.clock.advance(TOKEN_TTL_S)  # type: ignore[attr-defined]
    expired = [
        await call(http, fake, tokens["T1"], m, channel="C1MOD", text="hi")
        for m in ("auth.test", "chat.postMessage", "conversations.info")
    ]

    assert (who["team_id"], who["user_id"], who["bot_id"]) == ("T2", "U2BOT", "B2BOT")
    assert own["ok"] is True
    assert other["error"] == "channel_not_found"  # another workspace's channel
    assert [e["error"] for e in expired] == ["token_expired"] * 3
